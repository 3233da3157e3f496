package io.petrel.backup.target;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for tests: S3Proxy, run as a separate OS process (its Jetty 11 must not
 * meet our Jetty 12) on a free loopback port, keeping buckets in files, except those named
 * {@link #MEMORY_BUCKETS}, which it keeps in memory. {@link #stop()} kills it like a crash;
 * {@link #start()} brings it back on the same port with the same files.
 *
 * <p>Its classpath comes from {@code testing/s3-server/target/s3proxy.classpath}, written when that
 * module is built. Its folder (properties, log, data) is under this module's {@code target/s3-server/}.
 */
public final class S3Server implements AutoCloseable {
    static final String CLASSPATH_PROPERTY = "petrel.s3proxy.classpath";
    /** Buckets whose names match this glob are kept in memory, S3-like atomic but lost when the server stops. */
    public static final String MEMORY_BUCKETS = "memory-*";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;
    private final Path classpathFile;
    private final int port;
    private final String accessKey;
    private final String secretKey;
    private final Thread killOnExit;
    private Process process;

    private S3Server(Path dir, Path classpathFile, int port) {
        this.dir = dir;
        this.classpathFile = classpathFile;
        this.port = port;
        this.accessKey = "petrel-test-" + UUID.randomUUID().toString().substring(0, 8);
        // '+' and '/' as in real AWS secret keys, so that signing and spec parsing handle them.
        this.secretKey = "s3cr3t+/" + UUID.randomUUID();
        // A test JVM that dies without close() must not leave an S3Proxy holding the port.
        this.killOnExit = new Thread(this::kill, "s3proxy-kill-on-exit");
    }

    /** Starts a new server with an empty store. */
    public static S3Server launch() throws IOException {
        Path classpathFile = classpathFile();
        Path base = moduleDir().resolve("target").resolve("s3-server");
        Files.createDirectories(base);
        Path dir = Files.createTempDirectory(base, "s3proxy-");
        S3Server server = new S3Server(dir, classpathFile, freePort());
        Files.createDirectories(server.dataDir());
        server.writeConfig();
        Runtime.getRuntime().addShutdownHook(server.killOnExit);
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public Path logFile() {
        return dir.resolve("s3proxy.log");
    }

    /** A target configuration for {@code bucket} under {@code prefix} on this server. */
    public S3TargetConfig config(String bucket, String prefix) {
        return S3TargetConfig.of(bucket, prefix, endpoint(), "us-east-1", accessKey, secretKey, true);
    }

    /** Where the filesystem blobstore keeps its buckets, one folder each. */
    Path dataDir() {
        return dir.resolve("data");
    }

    /** Starts the server (again) on its port and data, and waits until it answers HTTP. */
    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("S3Proxy on port " + port + " is already running");
        }
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classpath = Files.readString(classpathFile, StandardCharsets.UTF_8).strip();
        List<String> command = List.of(java, "-Xmx128m", "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=" + dir.resolve("logback.xml"),
                "-cp", classpath, "org.gaul.s3proxy.Main",
                "--properties", dir.resolve("s3proxy.properties").toString(),
                "--properties", dir.resolve("memory.properties").toString());
        Files.writeString(logFile(), "--- starting S3Proxy on port " + port + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                .start();
        process.getOutputStream().close();
        awaitAnswering();
    }

    /** Kills the server with SIGKILL, as a crash would; its data stays for {@link #start()}. */
    public synchronized void stop() {
        kill();
    }

    private synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("S3Proxy (pid " + process.pid() + ") did not die within 10 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills the server and deletes its data; the folder with its log stays for a look after a failure. */
    @Override
    public synchronized void close() throws IOException {
        kill();
        process = null;
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // Already shutting down, or never registered.
        }
        deleteTree(dataDir());
    }

    private void awaitAnswering() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            HttpRequest probe = HttpRequest.newBuilder(endpoint().resolve("/")).timeout(Duration.ofSeconds(2)).GET().build();
            while (true) {
                if (!process.isAlive()) {
                    throw new IOException("S3Proxy exited with " + process.exitValue() + " while starting; its log "
                            + logFile() + " ends:\n" + tail());
                }
                try {
                    // Any answer will do (unsigned requests get 403): Jetty opens its port last.
                    http.send(probe, HttpResponse.BodyHandlers.discarding());
                    return;
                } catch (IOException notYet) {
                    if (System.nanoTime() > deadline) {
                        kill();
                        throw new IOException("S3Proxy did not answer on " + endpoint() + " within " + START_TIMEOUT
                                + "; its log " + logFile() + " ends:\n" + tail());
                    }
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
            throw new IOException("interrupted while waiting for S3Proxy to start", e);
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private void writeConfig() throws IOException {
        String common = String.join("\n",
                "s3proxy.endpoint=" + endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + accessKey,
                "s3proxy.credential=" + secretKey,
                "");
        // The filesystem blobstore keeps objects in files, so they outlive a kill and a restart. It is
        // the default for every bucket not named memory-*.
        Files.writeString(dir.resolve("s3proxy.properties"), common + String.join("\n",
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + dataDir(),
                ""), StandardCharsets.UTF_8);
        // Both filesystem blobstores write an object into a temporary file beside it, which a listing
        // shows: unlike S3 itself, an object is visible half-written. The in-memory blobstore stores an
        // object whole or not at all, as S3 does, so buckets named memory-* (MEMORY_BUCKETS) go there.
        Files.writeString(dir.resolve("memory.properties"), common + String.join("\n",
                "s3proxy.bucket-locator.1=" + MEMORY_BUCKETS,
                "jclouds.provider=transient",
                ""), StandardCharsets.UTF_8);
        // Without a configuration logback logs everything at DEBUG, headers of every request included.
        Files.writeString(dir.resolve("logback.xml"), """
                <configuration>
                  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="out"/></root>
                </configuration>
                """, StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }

    private static Path moduleDir() {
        // Surefire sets basedir to the module's folder; an IDE usually runs tests from there too.
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    private static Path classpathFile() {
        String configured = System.getProperty(CLASSPATH_PROPERTY);
        if (configured != null) {
            Path file = Path.of(configured);
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(CLASSPATH_PROPERTY + "=" + configured + " is not a file");
            }
            return file;
        }
        for (Path d = moduleDir(); d != null; d = d.getParent()) {
            Path file = d.resolve("testing/s3-server/target/s3proxy.classpath");
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new IllegalStateException("S3Proxy's classpath file testing/s3-server/target/s3proxy.classpath was not "
                + "found above " + moduleDir() + ": build that module first, e.g. "
                + "./mvnw -pl testing/s3-server package (or build with -pl backup -am), or set -D" + CLASSPATH_PROPERTY + "=FILE");
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    @Override
    public String toString() {
        return "S3Server[" + endpoint() + ", " + dir + "]";
    }
}
