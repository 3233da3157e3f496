package io.petrel.cli;

import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** {@code up --foreground}: prints new lines of every zone's log, prefixed with the zone, until interrupted. */
final class LogFollower {
    private LogFollower() {
    }

    static void follow(RegionLayout layout) throws InterruptedException {
        Map<String, Long> offsets = new HashMap<>();
        while (true) {
            for (ZoneSpec z : layout.zones()) {
                Path log = z.dataDir().resolve("node.log");
                try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                    long from = offsets.getOrDefault(z.zone(), f.length());
                    if (f.length() < from) {
                        from = 0;
                    }
                    f.seek(from);
                    byte[] buf = new byte[(int) Math.min(1 << 20, f.length() - from)];
                    f.readFully(buf);
                    offsets.put(z.zone(), from + buf.length);
                    String text = new String(buf, StandardCharsets.UTF_8);
                    for (String line : text.split("\n")) {
                        if (!line.isBlank()) {
                            System.out.println("[" + z.zone() + "] " + line);
                        }
                    }
                } catch (IOException e) {
                    // The zone has not written its log yet.
                }
            }
            Thread.sleep(250);
        }
    }
}
