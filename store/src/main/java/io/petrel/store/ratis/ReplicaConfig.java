package io.petrel.store.ratis;

import java.nio.file.Path;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Everything one zone's store voter needs: its zone, every voter of the region (itself included),
 * the region's name (the consensus group is derived from it), and its own data folder.
 */
public record ReplicaConfig(String region, String zone, List<Peer> peers, Path dataDir, StoreTuning tuning) {
    public ReplicaConfig {
        requireNonNull(region, "region");
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

    public Peer self() {
        return peers.stream().filter(p -> p.zone().equals(zone)).findFirst().orElseThrow();
    }
}
