package io.petrel.store.ratis;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A region of real Ratis voters with real RocksDB, all in this JVM on loopback: for store tests. */
public final class InProcessGroup implements AutoCloseable {
    private final String region;
    private final List<Peer> peers;
    private final Path root;
    private final StoreTuning tuning;
    private final ZoneReplica[] replicas;

    public InProcessGroup(Path root, int zones, StoreTuning tuning) throws IOException {
        this(root, zones, tuning, null);
    }

    /** A group whose zones all start from a copy of the state in {@code seed} (a RocksDB checkpoint, e.g. a rebased restore). */
    public static InProcessGroup seeded(Path root, int zones, StoreTuning tuning, Path seed) throws IOException {
        return new InProcessGroup(root, zones, tuning, seed);
    }

    private InProcessGroup(Path root, int zones, StoreTuning tuning, Path seed) throws IOException {
        this.region = "test-" + System.nanoTime();
        this.root = root;
        this.tuning = tuning;
        this.peers = new ArrayList<>();
        for (int i = 0; i < zones; i++) {
            peers.add(new Peer("z" + i, "127.0.0.1", freePort()));
        }
        this.replicas = new ZoneReplica[zones];
        if (seed != null) {
            try (StateImage image = StateImage.open(seed)) {
                for (int i = 0; i < zones; i++) {
                    java.nio.file.Files.createDirectories(root.resolve("z" + i));
                    image.copyTo(root.resolve("z" + i).resolve("state"));
                }
            }
        }
        for (int i = 0; i < zones; i++) {
            start(i);
        }
    }

    public void start(int i) throws IOException {
        replicas[i] = ZoneReplica.start(new ReplicaConfig(region, "z" + i, peers, root.resolve("z" + i), tuning));
    }

    public void stop(int i) {
        replicas[i].close();
        replicas[i] = null;
    }

    public String region() {
        return region;
    }

    public List<Peer> peers() {
        return List.copyOf(peers);
    }

    public ZoneReplica replica(int i) {
        return replicas[i];
    }

    public Path dataDir(int i) {
        return root.resolve("z" + i);
    }

    public RatisStore client() {
        return RatisStore.connect(region, peers, tuning);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < replicas.length; i++) {
            if (replicas[i] != null) {
                replicas[i].close();
            }
        }
    }
}
