package io.petrel.backup.target;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link BackupTarget} must do. A subclass opens a fresh, empty target for each test.
 */
abstract class BackupTargetContract {
    static final int MiB = 1 << 20;

    @TempDir
    Path scratch;

    protected BackupTarget target;

    /** A new, empty target; {@code scratch} is a temporary folder the target may use. */
    protected abstract BackupTarget open(Path scratch) throws IOException;

    /** Whether racing conditional creates of one name are decided atomically by the server under test. */
    protected boolean conditionalCreateIsAtomicUnderRace() {
        return true;
    }

    /** How many objects the listing test stores: more than one S3 page (1000) where that is affordable. */
    protected int manyObjects() {
        return 1100;
    }

    @BeforeEach
    void openTarget() throws IOException {
        target = open(scratch);
    }

    @AfterEach
    void closeTarget() throws IOException {
        if (target != null) {
            target.close();
        }
    }

    @Test
    void putAndGetBytes() throws IOException {
        byte[] content = "snapshot 17\n".getBytes(StandardCharsets.UTF_8);
        target.put("snapshots/17/manifest.json", content);
        target.put("empty", new byte[0]);

        assertThat(read(target, "snapshots/17/manifest.json")).isEqualTo(content);
        assertThat(read(target, "empty")).isEmpty();
        assertThat(target.stat("empty")).contains(new ObjectInfo("empty", 0));
    }

    @Test
    void createIfAbsentCreatesOnceAndNeverReplaces() throws Exception {
        assertThat(target.createIfAbsent("dr/epochs/00000000000000000002.json", "first".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(target.createIfAbsent("dr/epochs/00000000000000000002.json", "second".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(read(target, "dr/epochs/00000000000000000002.json")).isEqualTo("first".getBytes(StandardCharsets.UTF_8));

        if (!conditionalCreateIsAtomicUnderRace()) {
            return;
        }
        // Eight racing claims of one name: exactly one wins, and its content is what is stored.
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            var start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Boolean>> claims = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                byte[] mine = ("claim " + i).getBytes(StandardCharsets.UTF_8);
                claims.add(pool.submit(() -> {
                    start.await();
                    return target.createIfAbsent("dr/epochs/00000000000000000003.json", mine);
                }));
            }
            start.countDown();
            int won = 0;
            for (var c : claims) {
                won += c.get() ? 1 : 0;
            }
            assertThat(won).isEqualTo(1);
            assertThat(new String(read(target, "dr/epochs/00000000000000000003.json"), StandardCharsets.UTF_8)).startsWith("claim ");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void putAndGetSmallFile() throws IOException {
        Path file = scratch.resolve("small.bin");
        byte[] content = randomBytes(3 * MiB + 17, 5);
        Files.write(file, content);

        target.put("archive/0000000001.log", file);

        assertThat(read(target, "archive/0000000001.log")).isEqualTo(content);
        assertThat(target.stat("archive/0000000001.log")).contains(new ObjectInfo("archive/0000000001.log", content.length));
    }

    @Test
    void putStreamsLargeFileAndGetStreamsItBack() throws IOException {
        long size = 100L * MiB + 12345; // not a whole number of parts
        Path file = scratch.resolve("large.bin");
        String written = writeRandomFile(file, size, 42);

        long t0 = System.nanoTime();
        target.put("snapshots/large.bin", file);
        long putNanos = System.nanoTime() - t0;

        assertThat(target.stat("snapshots/large.bin")).contains(new ObjectInfo("snapshots/large.bin", size));
        long t1 = System.nanoTime();
        String read;
        long readBytes;
        try (InputStream in = target.get("snapshots/large.bin")) {
            MessageDigest sha = sha256();
            readBytes = new DigestInputStream(in, sha).transferTo(OutputStream.nullOutputStream());
            read = HexFormat.of().formatHex(sha.digest());
        }
        long getNanos = System.nanoTime() - t1;

        assertThat(readBytes).isEqualTo(size);
        assertThat(read).isEqualTo(written);
        System.out.printf("%s: put of %d MiB took %d ms (%.0f MiB/s), get %d ms (%.0f MiB/s)%n",
                target.describe(), size / MiB, putNanos / 1_000_000, mibPerSecond(size, putNanos),
                getNanos / 1_000_000, mibPerSecond(size, getNanos));
    }

    @Test
    void putOfAMissingFileFailsAndStoresNothing() throws IOException {
        assertThatThrownBy(() -> target.put("x", scratch.resolve("absent")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("absent");
        assertThat(target.list("")).isEmpty();
    }

    @Test
    void putReplaces() throws IOException {
        target.put("latest", "first version, longer".getBytes(StandardCharsets.UTF_8));
        target.put("latest", "second".getBytes(StandardCharsets.UTF_8));
        assertThat(new String(read(target, "latest"), StandardCharsets.UTF_8)).isEqualTo("second");
        assertThat(target.stat("latest")).contains(new ObjectInfo("latest", 6));

        Path file = scratch.resolve("third");
        Files.writeString(file, "third, from a file");
        target.put("latest", file);
        assertThat(new String(read(target, "latest"), StandardCharsets.UTF_8)).isEqualTo("third, from a file");
        assertThat(target.list("")).extracting(ObjectInfo::name).containsExactly("latest");
    }

    @Test
    void statTellsSizeOrAbsence() throws IOException {
        assertThat(target.stat("missing")).isEmpty();
        assertThat(target.stat("a/b/missing")).isEmpty();
        target.put("a/b/present", new byte[1234]);
        assertThat(target.stat("a/b/present")).contains(new ObjectInfo("a/b/present", 1234));
        assertThat(target.stat("a/b/present2")).isEmpty();
    }

    @Test
    void listFiltersByPrefixAndSortsByName() throws IOException {
        for (String name : List.of("snap/2", "snap/10", "log/a", "snapshot.x", "snap/1", "s", "snap/3/deeper")) {
            target.put(name, name.getBytes(StandardCharsets.UTF_8));
        }

        assertThat(target.list("snap/")).containsExactly(
                new ObjectInfo("snap/1", 6), new ObjectInfo("snap/10", 7),
                new ObjectInfo("snap/2", 6), new ObjectInfo("snap/3/deeper", 13));
        assertThat(target.list("snap")).extracting(ObjectInfo::name)
                .containsExactly("snap/1", "snap/10", "snap/2", "snap/3/deeper", "snapshot.x");
        assertThat(target.list("")).extracting(ObjectInfo::name)
                .containsExactly("log/a", "s", "snap/1", "snap/10", "snap/2", "snap/3/deeper", "snapshot.x");
        assertThat(target.list("snap/1")).extracting(ObjectInfo::name).containsExactly("snap/1", "snap/10");
        assertThat(target.list("snap/3/")).extracting(ObjectInfo::name).containsExactly("snap/3/deeper");
        assertThat(target.list("nothing/")).isEmpty();
    }

    @Test
    void listReturnsManyObjects() throws Exception {
        int n = manyObjects();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("many/" + i);
        }
        long t0 = System.nanoTime();
        forEachInParallel(names, name -> {
            try {
                target.put(name, name.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new AssertionError("put " + name, e);
            }
        });
        long putNanos = System.nanoTime() - t0;
        target.put("manz", new byte[1]); // just past the prefix in sort order

        long t1 = System.nanoTime();
        List<ObjectInfo> listed = target.list("many/");
        long listNanos = System.nanoTime() - t1;

        assertThat(listed).extracting(ObjectInfo::name).containsExactlyElementsOf(names.stream().sorted().toList());
        assertThat(listed).allSatisfy(o -> assertThat(o.size()).isEqualTo(o.name().length()));
        System.out.printf("%s: %d puts took %d ms, listing them %d ms%n",
                target.describe(), n, putNanos / 1_000_000, listNanos / 1_000_000);
    }

    @Test
    void deleteRemovesAndMissingIsFine() throws IOException {
        target.put("old/1", new byte[10]);
        target.put("old/2", new byte[20]);

        target.delete("old/1");

        assertThat(target.stat("old/1")).isEmpty();
        assertThatThrownBy(() -> target.get("old/1")).isInstanceOf(NoSuchObjectException.class);
        assertThat(target.list("old/")).extracting(ObjectInfo::name).containsExactly("old/2");
        target.delete("old/1");
        target.delete("never/was");
        assertThat(target.list("")).extracting(ObjectInfo::name).containsExactly("old/2");
    }

    @Test
    void getOfMissingObjectThrowsNoSuchObject() {
        assertThatThrownBy(() -> target.get("snapshots/404/manifest.json"))
                .isInstanceOf(NoSuchObjectException.class)
                .hasMessageContaining("snapshots/404/manifest.json")
                .hasMessageContaining(target.describe());
    }

    @Test
    void invalidNamesAreRefused() throws IOException {
        Path file = scratch.resolve("f");
        Files.write(file, new byte[1]);
        List<String> invalid = new ArrayList<>(List.of("", "/abs", "trailing/", "a//b", "..", "../up", "a/../b",
                "a/./b", ".", "with space", "back\\slash", "ümlaut", "q?x", "star*", "new\nline"));
        invalid.add(null);
        for (String name : invalid) {
            assertThatThrownBy(() -> target.put(name, new byte[1])).as("put bytes %s", name).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> target.put(name, file)).as("put file %s", name).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> target.get(name)).as("get %s", name).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> target.stat(name)).as("stat %s", name).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> target.delete(name)).as("delete %s", name).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(target.list("")).isEmpty();
    }

    /**
     * The target the half-written test watches, empty like {@link #target}: a subclass whose test server
     * is less atomic than the real thing may give one of another kind of store.
     */
    protected BackupTarget watchedTarget() throws IOException {
        return target;
    }

    @Test
    void objectIsNeverVisibleHalfWritten() throws Exception {
        assertNeverVisibleHalfWritten(watchedTarget(), 24L * MiB);
    }

    /**
     * Replaces an object with a larger one several times while another thread keeps looking: every
     * look must find the old object or the new one, whole, and nothing else (no temporary file, no part).
     */
    protected void assertNeverVisibleHalfWritten(BackupTarget t, long size) throws Exception {
        Path small = scratch.resolve("v-small");
        Path large = scratch.resolve("v-large");
        Files.write(small, randomBytes(1000, 1));
        writeRandomFile(large, size, 2);
        t.put("watched/object", small);

        AtomicBoolean writing = new AtomicBoolean(true);
        int looks = 0;
        try (ExecutorService writer = Executors.newSingleThreadExecutor()) {
            Future<?> puts = writer.submit(() -> {
                try {
                    for (int i = 0; i < 3; i++) {
                        t.put("watched/object", large);
                        t.put("watched/object", small);
                    }
                    t.put("watched/object", large);
                } finally {
                    writing.set(false);
                }
                return null;
            });
            while (writing.get()) {
                List<ObjectInfo> listed = t.list("");
                assertThat(listed).extracting(ObjectInfo::name).containsExactly("watched/object");
                assertThat(listed.getFirst().size()).isIn(1000L, size);
                Optional<ObjectInfo> stat = t.stat("watched/object");
                assertThat(stat).isPresent();
                assertThat(stat.get().size()).isIn(1000L, size);
                looks++;
            }
            puts.get();
        }
        assertThat(t.stat("watched/object")).contains(new ObjectInfo("watched/object", size));
        assertThat(t.list("")).extracting(ObjectInfo::name).containsExactly("watched/object");
        assertThat(looks).as("looks while writing").isPositive();
        System.out.printf("%s: %d looks while writing, none saw a partial object%n", t.describe(), looks);
    }

    // --- helpers

    static byte[] read(BackupTarget t, String name) throws IOException {
        try (InputStream in = t.get(name)) {
            return in.readAllBytes();
        }
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Writes {@code size} pseudo-random bytes (no two MiB alike, so misordered parts show) and returns their sha256. */
    static String writeRandomFile(Path file, long size, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        MessageDigest sha = sha256();
        byte[] block = new byte[MiB];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; ) {
                random.nextBytes(block);
                int n = (int) Math.min(block.length, left);
                out.write(block, 0, n);
                sha.update(block, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static double mibPerSecond(long bytes, long nanos) {
        return bytes / (double) MiB / (nanos / 1e9);
    }

    static void forEachInParallel(List<String> items, Consumer<String> action) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> futures = new ArrayList<>();
            for (String item : items) {
                futures.add(pool.submit(() -> action.accept(item)));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }
}
