package io.petrel.cli.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real network partition between loopback addresses of this machine: iptables rules that drop
 * packets from some source addresses to some destinations, in a chain of their own
 * ({@code PETREL-TEST-...}) hooked into OUTPUT, removed on {@link #close()} (and at JVM exit). Zones
 * bind their outgoing connections to their own addresses, so a rule by source cuts exactly one region.
 */
final class LoopbackPartition implements AutoCloseable {
    private final String chain = "PETREL-TEST-" + UUID.randomUUID().toString().substring(0, 8).toUpperCase();
    private final Thread cleanupOnExit = new Thread(this::removeQuietly, "partition-cleanup");
    private boolean installed;

    /** Installs iptables if needed (Debian), removes chains earlier runs left, and makes an empty chain. */
    static LoopbackPartition create() throws IOException, InterruptedException {
        Path script = repoRoot().resolve("testing/net/ensure-iptables.sh");
        run(List.of("bash", script.toString()));
        LoopbackPartition p = new LoopbackPartition();
        run(List.of("iptables", "-N", p.chain));
        run(List.of("iptables", "-I", "OUTPUT", "-j", p.chain));
        p.installed = true;
        Runtime.getRuntime().addShutdownHook(p.cleanupOnExit);
        return p;
    }

    /** Drops every TCP packet from {@code source} to {@code destination} (any port when {@code port} is 0). */
    void drop(String source, String destination, int port) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-A", chain, "-s", source, "-d", destination, "-p", "tcp"));
        if (port > 0) {
            cmd.addAll(List.of("--dport", String.valueOf(port)));
        }
        cmd.addAll(List.of("-j", "DROP"));
        run(cmd);
    }

    /** Heals the partition (the chain stays, empty, until {@link #close()}). */
    void heal() throws IOException, InterruptedException {
        run(List.of("iptables", "-F", chain));
    }

    @Override
    public void close() {
        removeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException e) {
            // Already exiting.
        }
    }

    private synchronized void removeQuietly() {
        if (!installed) {
            return;
        }
        installed = false;
        for (List<String> cmd : List.of(List.of("iptables", "-D", "OUTPUT", "-j", chain), List.of("iptables", "-F", chain),
                List.of("iptables", "-X", chain))) {
            try {
                run(cmd);
            } catch (IOException | InterruptedException e) {
                System.err.println("partition cleanup: " + e.getMessage());
            }
        }
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.strip());
        }
    }

    private static Path repoRoot() {
        for (Path d = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("testing/net/ensure-iptables.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("testing/net/ensure-iptables.sh not found above " + System.getProperty("user.dir"));
    }
}
