package io.petrel.cli.faults;

import io.petrel.store.Expect;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A damaged file in a zone's data folder: the zone refuses to start and names the file; it never
 * serves wrong data. With the file repaired it starts and agrees with the others again.
 */
class CorruptionTest {

    @Test
    void aZoneWithACorruptedOrTruncatedFileRefusesToStartAndNamesIt() throws Exception {
        try (RegionHarness region = RegionHarness.start(Map.of("snapshot.every.entries", "200"));
             RatisStore client = region.client(StoreTuning.DEFAULT)) {
            for (int i = 0; i < 600; i++) {
                client.put("corrupt/" + i, ("value " + i).getBytes(StandardCharsets.UTF_8), Expect.any());
            }
            String zone = region.zones().stream().filter(z -> !z.equals(CatchUpTest.leaderOf(region))).findFirst().orElseThrow();
            Path data = region.spec(zone).dataDir();
            assertThat(region.zone(zone).stop(Duration.ofSeconds(20))).isTrue();
            for (int i = 600; i < 900; i++) {
                client.put("corrupt/" + i, ("value " + i).getBytes(StandardCharsets.UTF_8), Expect.any());
            }

            // 1. A table file of the live database, damaged in the middle.
            Path sst = largest(data.resolve("state"), ".sst");
            damage(region, zone, sst, file -> flipBytes(file, Files.size(file) / 3));

            // 2. A file of the newest snapshot, truncated.
            Path snapshotDir = find(data.resolve("raft"), p -> p.getFileName().toString().startsWith("snapshot.") && Files.isDirectory(p));
            Path manifest = find(snapshotDir, p -> p.getFileName().toString().startsWith("MANIFEST-") && !p.toString().endsWith(".md5"));
            damage(region, zone, manifest, file -> truncate(file, Files.size(file) / 2));

            // 3. The Raft log, damaged inside its written part.
            Path segment = find(data.resolve("raft"), p -> p.getFileName().toString().startsWith("log_"));
            damage(region, zone, segment, file -> flipBytes(file, lastNonZero(file) / 2));

            region.region().start(zone);
            region.region().awaitReady(List.of(zone), Duration.ofSeconds(60));
            var digests = region.convergedDigests(Duration.ofSeconds(60));
            assertThat(digests.values().stream().map(d -> d.path("digest").asText()).distinct()).hasSize(1);
            assertThat(digests.get(zone).path("revision").asLong()).isGreaterThanOrEqualTo(900);
        }
    }

    interface Damage {
        void apply(Path file) throws IOException;
    }

    /** Damages a copy-protected file, checks that the zone refuses to start naming it, then repairs it. */
    private static void damage(RegionHarness region, String zone, Path file, Damage damage) throws Exception {
        byte[] original = Files.readAllBytes(file);
        damage.apply(file);
        String logBefore = region.log(zone);
        ProcessHandle p = region.region().start(zone);
        boolean exited = p.onExit().completeOnTimeout(null, 60, java.util.concurrent.TimeUnit.SECONDS).join() != null && !p.isAlive();
        String log = region.log(zone).substring(logBefore.length());
        assertThat(exited).as("zone %s with damaged %s must not keep running; log:%n%s", zone, file, log).isTrue();
        assertThat(region.region().ready(region.spec(zone))).isFalse();
        assertThat(log).contains("refuses to start").contains(file.getFileName().toString());
        System.out.printf("MEASURED zone %s refused to start with damaged %s: %s%n", zone, file.getFileName(),
                log.lines().filter(l -> l.contains("refuses to start")).findFirst().orElse(""));
        Files.write(file, original);
    }

    private static Path largest(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix)).max(Comparator.comparingLong(CorruptionTest::size))
                    .orElseThrow(() -> new AssertionError("no " + suffix + " file in " + dir));
        }
    }

    private static Path find(Path dir, java.util.function.Predicate<Path> match) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(match).max(Comparator.comparing(Path::toString))
                    .orElseThrow(() -> new AssertionError("nothing matching in " + dir));
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    private static void flipBytes(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] buf = new byte[64];
            f.seek(at);
            int n = f.read(buf);
            for (int i = 0; i < n; i++) {
                buf[i] = (byte) ~buf[i];
            }
            f.seek(at);
            f.write(buf, 0, n);
        }
    }

    private static void truncate(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }

    /** Where the written part of a preallocated (zero-padded) file ends. */
    private static long lastNonZero(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        for (int i = all.length - 1; i >= 0; i--) {
            if (all[i] != 0) {
                return i;
            }
        }
        throw new AssertionError(file + " holds only zeros");
    }
}
