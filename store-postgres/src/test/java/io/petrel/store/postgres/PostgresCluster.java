package io.petrel.store.postgres;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL for tests: a primary and (optionally) a synchronous standby, each in a temporary folder on a
 * free loopback port, run by Debian's binaries as the {@code postgres} OS user (PostgreSQL refuses to run as
 * root). {@code testing/postgres/ensure-postgres.sh} installs the binaries if they are missing. Closing (or the
 * JVM ending) stops every server it started and deletes the folders.
 */
public final class PostgresCluster implements AutoCloseable {
    public static final String USER = "petrel";

    /** One server: its data folder, port and name (its {@code cluster_name}, the standby's replication name). */
    public record Node(String name, Path dir, int port) {
    }

    private final Path bin;
    private final Path base;
    private final boolean root;
    private final String password;
    private final Node primary;
    private final Optional<Node> standby;
    private final Thread cleanup;
    /** The iptables chain of {@link #blockPrimary()} ({@code PETREL-TEST-*}: ensure-iptables.sh removes one a killed run left). */
    private final String chain = "PETREL-TEST-PG" + Long.toHexString(System.nanoTime() & 0xffffffL).toUpperCase();
    private volatile boolean blocked;

    private PostgresCluster(Path bin, Path base, boolean root, String password, Node primary, Optional<Node> standby) {
        this.bin = bin;
        this.base = base;
        this.root = root;
        this.password = password;
        this.primary = primary;
        this.standby = standby;
        this.cleanup = new Thread(this::stopAndDelete, "postgres-cluster-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Starts a primary and, if asked, a synchronous standby that every commit waits for. Skips the calling test
     * (a JUnit assumption) only when PostgreSQL is missing and this process may not install it (not root).
     */
    public static PostgresCluster start(boolean withStandby) throws IOException, InterruptedException {
        boolean root = "0".equals(run(List.of("id", "-u"), null).strip());
        Path script = repoRoot().resolve("testing/postgres/ensure-postgres.sh");
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int rc = p.waitFor();
        if (rc != 0) {
            Assumptions.assumeTrue(root, "PostgreSQL is not installed and only root can install it (" + script + " exited " + rc + ")");
            throw new IllegalStateException(script + " failed (exit " + rc + "); PostgreSQL is needed for these tests");
        }
        Path bin = Path.of(out.lines().reduce((a, b) -> b).orElseThrow());
        // A free port picked here can be taken by another process before the server binds it (the machine is
        // shared with other tests): start anew, in a new folder on new ports, before giving up.
        for (int attempt = 1; ; attempt++) {
            try {
                return start(bin, root, withStandby);
            } catch (IOException e) {
                if (attempt == 3) {
                    throw e;
                }
                System.err.println("postgres-cluster: attempt " + attempt + " failed, trying again: " + e.getMessage());
            }
        }
    }

    private static PostgresCluster start(Path bin, boolean root, boolean withStandby) throws IOException, InterruptedException {
        Path base = Files.createTempDirectory("petrel-pg-");
        String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
        PostgresCluster cluster = null;
        try {
            if (root) {
                run(List.of("chown", "postgres:postgres", base.toString()), null);
            }
            Node primary = new Node("primary", base.resolve("primary"), freePort());
            Optional<Node> standby = withStandby ? Optional.of(new Node("standby", base.resolve("standby"), freePort())) : Optional.empty();
            cluster = new PostgresCluster(bin, base, root, password, primary, standby);
            cluster.initPrimary();
            cluster.startNode(primary);
            if (standby.isPresent()) {
                cluster.initStandby(standby.get());
                cluster.startNode(standby.get());
                cluster.awaitSynchronousStandby(Duration.ofSeconds(60));
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (cluster != null) {
                cluster.close();
            } else {
                deleteTree(base);
            }
            throw e;
        }
    }

    /** The multi-host URL: the store finds whichever server is primary. */
    public String url() {
        StringBuilder hosts = new StringBuilder("127.0.0.1:" + primary.port());
        standby.ifPresent(s -> hosts.append(",127.0.0.1:").append(s.port()));
        return "jdbc:postgresql://" + hosts + "/postgres?targetServerType=primary";
    }

    public String password() {
        return password;
    }

    public PostgresConfig config() {
        return PostgresConfig.of(url(), USER, Optional.of(password));
    }

    public Node primary() {
        return primary;
    }

    public Optional<Node> standby() {
        return standby;
    }

    /** A plain JDBC connection to one server (for checks the store does not offer). */
    public Connection connect(Node node) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.port() + "/postgres", USER, password);
    }

    private void initPrimary() throws IOException, InterruptedException {
        Path pw = base.resolve("pwfile");
        Files.writeString(pw, password + "\n");
        if (root) {
            run(List.of("chown", "postgres:postgres", pw.toString()), null);
        }
        asPostgres(List.of(bin.resolve("initdb").toString(), "-D", primary.dir().toString(), "-U", USER, "--pwfile=" + pw,
                "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync"));
        Files.writeString(primary.dir().resolve("postgresql.conf"), String.join("\n",
                "",
                "# petrel test cluster",
                "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '" + base + "'",
                "shared_buffers = 16MB",
                "max_connections = 100",
                "fsync = on",
                "synchronous_commit = on",
                "wal_level = replica",
                "max_wal_senders = 5",
                "wal_keep_size = 128MB",
                "hot_standby = on",
                ""), java.nio.file.StandardOpenOption.APPEND);
    }

    private void initStandby(Node s) throws IOException, InterruptedException {
        asPostgres(List.of(bin.resolve("pg_basebackup").toString(), "-D", s.dir().toString(), "-R", "-X", "stream", "-c", "fast",
                "-d", "host=127.0.0.1 port=" + primary.port() + " user=" + USER + " password=" + password));
    }

    /** Node-specific settings go on the command line, so the standby's copy of the files never carries the primary's. */
    private void startNode(Node n) throws IOException, InterruptedException {
        String options = "-p " + n.port() + " -c cluster_name=" + n.name()
                + (n.equals(primary) && standby.isPresent() ? " -c synchronous_standby_names=" + standby.get().name() : "");
        Path log = base.resolve(n.name() + ".log");
        try {
            asPostgres(List.of(bin.resolve("pg_ctl").toString(), "-D", n.dir().toString(), "-l", log.toString(),
                    "-w", "-t", "60", "-o", options, "start"));
        } catch (IOException e) {
            // The server's own words on why: the folder (and its log) is deleted when the cluster is closed.
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of("(no log)");
            throw new IOException(e.getMessage() + "\n" + n.name() + ".log:\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())), e);
        }
    }

    private void awaitSynchronousStandby(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try (Connection c = connect(primary); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")) {
                if (rs.next() && "sync".equals(rs.getString(1))) {
                    return;
                }
                last = "standby not streaming synchronously yet";
            } catch (SQLException e) {
                last = e.getMessage();
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the standby did not become synchronous within " + timeout + ": " + last + "; logs in " + base);
    }

    /** Kills the primary's postmaster and every backend with SIGKILL, as if its machine died. */
    public void killPrimary() throws IOException, InterruptedException {
        killHard(primary);
    }

    /** Promotes the standby (waits until it takes writes). */
    public void promoteStandby() throws IOException, InterruptedException {
        Node s = standby.orElseThrow(() -> new IllegalStateException("this cluster has no standby"));
        asPostgres(List.of(bin.resolve("pg_ctl").toString(), "-D", s.dir().toString(), "-w", "-t", "60", "promote"));
    }

    /** Stops the primary at once (connections are cut; it recovers from its WAL when started again). */
    public void stopPrimary() throws IOException, InterruptedException {
        asPostgres(List.of(bin.resolve("pg_ctl").toString(), "-D", primary.dir().toString(), "-w", "-t", "30", "-m", "immediate", "stop"));
    }

    public void startPrimary() throws IOException, InterruptedException {
        startNode(primary);
    }

    /**
     * Black-holes the primary's port (iptables drops every packet sent to it, in a chain of its own hooked into
     * OUTPUT), as a network that fails without closing anything would. Needs root; false (and nothing changed)
     * when this process may not do it.
     */
    public boolean blockPrimary() throws IOException, InterruptedException {
        if (!root) {
            return false;
        }
        run(List.of("bash", repoRoot().resolve("testing/net/ensure-iptables.sh").toString()), null);
        run(List.of("iptables", "-N", chain), null);
        blocked = true;
        run(List.of("iptables", "-I", "OUTPUT", "-j", chain), null);
        run(List.of("iptables", "-A", chain, "-p", "tcp", "-d", "127.0.0.1", "--dport", String.valueOf(primary.port()), "-j", "DROP"), null);
        return true;
    }

    /** Lets packets through to the primary again. */
    public void unblockPrimary() throws IOException, InterruptedException {
        if (blocked) {
            blocked = false;
            IOException first = null;
            for (List<String> cmd : List.of(List.of("iptables", "-D", "OUTPUT", "-j", chain), List.of("iptables", "-F", chain),
                    List.of("iptables", "-X", chain))) {
                try {
                    run(cmd, null);
                } catch (IOException e) {
                    first = first == null ? e : first;     // go on: leave as little behind as possible
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private static void killHard(Node n) throws IOException, InterruptedException {
        Path pidFile = n.dir().resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile).getFirst().strip());
        Optional<ProcessHandle> postmaster = ProcessHandle.of(pid);
        if (postmaster.isEmpty()) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>();
        all.add(postmaster.get());
        postmaster.get().descendants().forEach(all::add);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> h).join();
        }
    }

    private void stopAndDelete() {
        try {
            unblockPrimary();
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("postgres-cluster: could not remove the iptables chain " + chain + ": " + e);
        }
        for (Node n : standby.isPresent() ? List.of(primary, standby.get()) : List.of(primary)) {
            try {
                killHard(n);
            } catch (IOException | InterruptedException | RuntimeException e) {
                System.err.println("postgres-cluster: could not stop " + n + ": " + e);
            }
        }
        deleteTree(base);
    }

    @Override
    public void close() {
        stopAndDelete();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // The JVM is already shutting down (the hook runs, harmlessly, again), or this was closed before.
        }
    }

    private String asPostgres(List<String> command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        return run(full, base);
    }

    private static String run(List<String> command, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command).replaceAll("password=\\S+", "password=***") + " failed: " + out);
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The repository's root: the first folder up from here that holds the ensure script. */
    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.exists(p.resolve("testing/postgres/ensure-postgres.sh"))) {
                return p;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("testing/postgres/ensure-postgres.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            System.err.println("postgres-cluster: could not delete " + dir + ": " + e);
        }
    }
}
