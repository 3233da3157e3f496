package io.petrel.store.ratis;

import java.nio.file.Path;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Everything one zone's store voter needs: its zone, every voter of the region (itself included),
 * the region's name and cluster id (the consensus group is derived from both: a region restored from
 * a backup is a new cluster, and can never join the voters of the one it was restored from), and its
 * own data folder.
 */
public record ReplicaConfig(String region, String clusterId, String zone, List<Peer> peers, Path dataDir, StoreTuning tuning) {
    public ReplicaConfig {
        requireNonNull(region, "region");
        requireNonNull(clusterId, "clusterId");
        requireNonNull(zone, "zone");
        requireNonNull(dataDir, "dataDir");
        requireNonNull(tuning, "tuning");
        peers = List.copyOf(peers);
        if (peers.stream().noneMatch(p -> p.zone().equals(zone))) {
            throw new IllegalArgumentException("zone " + zone + " is not among the peers " + peers);
        }
        if (peers.stream().map(Peer::zone).distinct().count() != peers.size()) {
            throw new IllegalArgumentException("two peers share a zone name: " + peers);
        }
    }

    /** A replica of a cluster without a cluster id (regions created before cluster ids existed). */
    public ReplicaConfig(String region, String zone, List<Peer> peers, Path dataDir, StoreTuning tuning) {
        this(region, "", zone, peers, dataDir, tuning);
    }

    public Peer self() {
        return peers.stream().filter(p -> p.zone().equals(zone)).findFirst().orElseThrow();
    }
}
