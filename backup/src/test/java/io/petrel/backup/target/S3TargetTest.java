package io.petrel.backup.target;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The contract against a real S3-compatible server (S3Proxy in its own process), and what only S3 has. */
class S3TargetTest extends BackupTargetContract {
    /**
     * S3 decides {@code If-None-Match: *} atomically; S3Proxy (the test server) checks and then writes,
     * so two racing creates can both succeed there. Sequential refusal is still checked.
     */
    @Override
    protected boolean conditionalCreateIsAtomicUnderRace() {
        return false;
    }

    private static final String BUCKET = "petrel-backups";
    private static final long FAIL_FAST_MILLIS = 10_000;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private static S3Server server;

    @BeforeAll
    static void startServer() throws IOException {
        long t0 = System.nanoTime();
        server = S3Server.launch();
        System.out.printf("S3Proxy started on %s in %d ms%n", server.endpoint(), (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** Each test its own prefix in one bucket, so tests stay apart without a bucket each. */
    private static S3TargetConfig freshConfig() {
        return server.config(BUCKET, "test-" + PREFIXES.incrementAndGet());
    }

    /** Opened by {@link #watchedTarget()}, closed after each test. */
    private S3Target memoryTarget;

    @Override
    protected BackupTarget open(Path scratch) throws IOException {
        return new S3Target(freshConfig());
    }

    /** In a bucket S3Proxy keeps in memory: see {@link S3Server#MEMORY_BUCKETS} for why. */
    private static S3TargetConfig freshMemoryConfig() {
        return server.config("memory-backups", "test-" + PREFIXES.incrementAndGet());
    }

    @Override
    protected BackupTarget watchedTarget() throws IOException {
        memoryTarget = new S3Target(freshMemoryConfig());
        return memoryTarget;
    }

    @AfterEach
    void closeMemoryTarget() {
        if (memoryTarget != null) {
            memoryTarget.close();
        }
    }

    @Test
    void describeNamesBucketPrefixAndEndpointButNoSecret() {
        assertThat(target.describe()).matches("s3://" + BUCKET + "/test-\\d+/ \\(" + server.endpoint() + "\\)");
        assertThat(target.describe() + target + ((S3Target) target).config()).doesNotContain(server.secretKey());
    }

    @Test
    void listFollowsContinuationTokensAcrossSmallPages() throws Exception {
        try (S3Target small = new S3Target(freshConfig().withListPageSize(7))) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                names.add(String.format("page/%03d", i));
            }
            forEachInParallel(names, name -> {
                try {
                    small.put(name, new byte[]{1});
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            small.put("pagf", new byte[2]);
            assertThat(small.list("page/")).extracting(ObjectInfo::name).containsExactlyElementsOf(names);
            assertThat(small.list("")).hasSize(51);
            assertThat(small.list("page/04")).extracting(ObjectInfo::name)
                    .containsExactly("page/040", "page/041", "page/042", "page/043", "page/044",
                            "page/045", "page/046", "page/047", "page/048", "page/049");
        }
    }

    @Test
    void multipartUploadIsNeverVisibleHalfWritten() throws Exception {
        try (S3Target parts = new S3Target(freshMemoryConfig().withMultipart(8L * MiB, 5L * MiB))) {
            assertNeverVisibleHalfWritten(parts, 17L * MiB + 1);
        }
    }

    @Test
    void memoryBucketsAreKeptInMemoryAndOthersOnDisk() throws IOException {
        watchedTarget().put("x", new byte[1]);
        target.put("x", new byte[1]);
        assertThat(server.dataDir().resolve(BUCKET)).isDirectory();
        assertThat(server.dataDir().resolve("memory-backups")).doesNotExist();
    }

    @Test
    void multipartUploadKeepsBytesInOrder() throws Exception {
        try (S3Target parts = new S3Target(freshConfig().withMultipart(5L * MiB, 5L * MiB))) {
            Path file = scratch.resolve("parts.bin");
            String sha = writeRandomFile(file, 16L * MiB + 3, 9); // 4 parts, the last 3 bytes
            parts.put("parts.bin", file);
            try (InputStream in = parts.get("parts.bin")) {
                var digest = sha256();
                digest.update(in.readAllBytes());
                assertThat(HexFormat.of().formatHex(digest.digest())).isEqualTo(sha);
            }
            assertThat(parts.list("")).extracting(ObjectInfo::name).as("no parts left as objects").containsExactly("parts.bin");
        }
    }

    @Test
    void closingAStreamEarlyLeavesTheTargetUsable() throws IOException {
        Path file = scratch.resolve("f");
        writeRandomFile(file, 8L * MiB, 4);
        target.put("big", file);
        for (int i = 0; i < 5; i++) {
            try (InputStream in = target.get("big")) {
                assertThat(in.readNBytes(10)).hasSize(10);
            }
        }
        assertThat(read(target, "big")).hasSize(8 * MiB);
    }

    @Test
    void createsAMissingBucket() throws IOException {
        String bucket = "fresh-" + UUID.randomUUID().toString().substring(0, 8);
        try (S3Target fresh = new S3Target(server.config(bucket, ""))) {
            fresh.put("x", new byte[]{7});
            assertThat(read(fresh, "x")).containsExactly(7);
        }
        // Opening again finds it there, objects and all.
        try (S3Target again = new S3Target(server.config(bucket, ""))) {
            assertThat(again.list("")).containsExactly(new ObjectInfo("x", 1));
        }
    }

    @Test
    void withoutCreateBucketAMissingBucketIsAnIoErrorNamingIt() throws IOException {
        try (S3Target absent = new S3Target(server.config("absent-bucket", "p").withCreateBucket(false))) {
            assertThatThrownBy(() -> absent.put("x", new byte[1]))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(absent.describe())
                    .hasMessageContaining("x")
                    .hasMessageContaining("NoSuchBucket");
            assertThatThrownBy(() -> absent.get("x")).isInstanceOf(IOException.class).isNotInstanceOf(NoSuchObjectException.class);
            assertThatThrownBy(() -> absent.list("")).isInstanceOf(IOException.class).hasMessageContaining("NoSuchBucket");
        }
    }

    @Test
    void wrongCredentialsFailOpeningWithoutShowingTheSecret() {
        S3TargetConfig ok = freshConfig();
        S3TargetConfig wrong = S3TargetConfig.of(ok.bucket(), ok.prefix(), ok.endpoint(), ok.region(),
                ok.accessKey(), "not-the-secret-" + UUID.randomUUID(), true);
        assertThatThrownBy(() -> new S3Target(wrong))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(wrong.describe())
                .hasMessageContaining("HTTP 403")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrong.secretKey()));
    }

    @Test
    void opensFromSpecWithCredentialsInTheSpecOrTheEnvironment() throws IOException {
        String base = "s3://" + BUCKET + "/spec-" + UUID.randomUUID().toString().substring(0, 8)
                + "?endpoint=" + server.endpoint() + "&region=us-east-1";
        String withKeys = base + "&accessKey=" + server.accessKey()
                + "&secretKey=" + URLEncoder.encode(server.secretKey(), StandardCharsets.UTF_8);
        try (BackupTarget fromSpec = BackupTargets.open(withKeys, Map.of())) {
            assertThat(fromSpec).isInstanceOf(S3Target.class);
            fromSpec.put("hello", "world".getBytes(StandardCharsets.UTF_8));
        }
        Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", server.accessKey(), "AWS_SECRET_ACCESS_KEY", server.secretKey());
        try (BackupTarget fromEnv = BackupTargets.open(base, env)) {
            assertThat(new String(read(fromEnv, "hello"), StandardCharsets.UTF_8)).isEqualTo("world");
        }
    }

    @Test
    void failsFastWhileTheServerIsDownAndWorksAgainOnceItIsBack() throws IOException {
        Path file = scratch.resolve("during.bin");
        Files.write(file, randomBytes(100_000, 8));
        target.put("before", "kept".getBytes(StandardCharsets.UTF_8));
        String describe = target.describe();

        server.stop();
        try {
            expectFastFailure("put bytes", "during", () -> target.put("during", new byte[10]), describe);
            expectFastFailure("put file", "during-file", () -> target.put("during-file", file), describe);
            expectFastFailure("get", "before", () -> target.get("before").close(), describe);
            expectFastFailure("stat", "before", () -> target.stat("before"), describe);
            expectFastFailure("list", "'be'", () -> target.list("be"), describe);
            expectFastFailure("delete", "before", () -> target.delete("before"), describe);
        } finally {
            long t0 = System.nanoTime();
            server.start();
            System.out.printf("S3Proxy restarted in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }

        // The same target, never reopened: its client finds the server again, and the data survived the kill.
        assertThat(new String(read(target, "before"), StandardCharsets.UTF_8)).isEqualTo("kept");
        target.put("after", file);
        assertThat(target.list("")).extracting(ObjectInfo::name).containsExactly("after", "before");
        assertThat(target.stat("after")).contains(new ObjectInfo("after", 100_000));
    }

    private interface Op {
        void run() throws IOException;
    }

    private static void expectFastFailure(String what, String object, Op op, String describe) {
        long t0 = System.nanoTime();
        Throwable thrown = null;
        try {
            op.run();
        } catch (Throwable t) {
            thrown = t;
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("with the server down, %s failed after %d ms: %s%n", what, millis, thrown);
        assertThat(thrown).as(what).isInstanceOf(IOException.class).isNotInstanceOf(NoSuchObjectException.class);
        assertThat(thrown.getMessage()).as(what).contains(describe).contains(object);
        assertThat(millis).as(what + " took (ms)").isLessThan(FAIL_FAST_MILLIS);
    }
}
