package io.petrel.cli.faults;

import io.petrel.store.DiskFullException;
import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The region's disk fills up (a real, small tmpfs holds every zone's data): writes fail with a clear
 * error, reads go on, nothing is corrupted, and writes work again once space is freed.
 */
class DiskFullTest {
    private static final long RESERVE = 48L * 1024 * 1024;

    @Test
    void aFullDiskRefusesWritesClearlyAndCorruptsNothing() throws Exception {
        Path mount = Files.createTempDirectory("petrel-disk-full-");
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=256m", "petrel-disk-test", mount.toString()) == 0,
                "mounting a tmpfs needs root (CI runs as root)");
        try {
            try (RegionHarness region = RegionHarness.start(mount.resolve("region"), false, Map.of("disk.reserve.bytes", String.valueOf(RESERVE)));
                 RatisStore client = region.client(StoreTuning.DEFAULT)) {
                CatchUpTest.write(client, "disk/", 300);

                Path filler = mount.resolve("filler");
                long free = Files.getFileStore(mount).getUsableSpace();
                fill(filler, free - RESERVE / 2);
                System.out.printf("MEASURED tmpfs free space after filling: %d MiB (reserve %d MiB)%n",
                        Files.getFileStore(mount).getUsableSpace() >> 20, RESERVE >> 20);

                assertThatThrownBy(() -> client.put("disk/late", "x".getBytes(StandardCharsets.UTF_8), Expect.any()))
                        .isInstanceOf(DiskFullException.class)
                        .hasMessageContaining("disk full");
                assertThat(client.get("disk/42").orElseThrow().valueAsString()).isEqualTo("value 42");
                assertThat(client.get("disk/late")).isEmpty();

                Files.delete(filler);
                client.put("disk/late", "x".getBytes(StandardCharsets.UTF_8), Expect.any());
                Map<String, KeyValue> all = LeaderKillTest.scanAll(client, "disk/");
                assertThat(all).hasSize(301);
                var digests = region.convergedDigests(Duration.ofSeconds(60));
                assertThat(digests.values().stream().map(d -> d.path("digest").asText()).distinct()).hasSize(1);
            }
        } finally {
            run("umount", "-l", mount.toString());
            Files.deleteIfExists(mount);
        }
    }

    private static void fill(Path file, long bytes) throws IOException {
        byte[] chunk = new byte[1 << 20];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            for (long written = 0; written + chunk.length <= bytes; written += chunk.length) {
                f.write(chunk);
            }
        }
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(System.out);
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
