package io.petrel.cli.local;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * Several regions on one machine ({@code --region NAME}): each in {@code <home>/regions/NAME}, on its own
 * loopback prefix {@code 127.<n>} (n from 1, kept in {@code <home>/regions.properties}), with disaster
 * recovery on and one backup target that all of them share ({@code <home>/dr-target}): the witness of
 * their quorum, standing in for a bucket outside every region.
 */
public final class NamedRegions {
    private final Path home;

    public NamedRegions(Path home) {
        this.home = requireNonNull(home, "home");
    }

    public Path dir(String region) {
        checkName(region);
        return home.resolve("regions").resolve(region).toAbsolutePath();
    }

    public Path sharedTarget() {
        return home.resolve("dr-target").toAbsolutePath();
    }

    /** The loopback prefix of {@code region}, allocated on first use. */
    public synchronized String ipPrefix(String region) throws IOException {
        checkName(region);
        Path file = home.resolve("regions.properties");
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            }
        }
        String n = p.getProperty(region);
        if (n == null) {
            int next = 1;
            while (p.containsValue(String.valueOf(next))) {
                next++;
            }
            if (next > 99) {
                throw new IOException("too many regions on this machine (99)");
            }
            n = String.valueOf(next);
            p.setProperty(region, n);
            Files.createDirectories(home);
            try (Writer w = Files.newBufferedWriter(file)) {
                p.store(w, "loopback prefix 127.<n> of each named region");
            }
        }
        return "127." + n;
    }

    /** The tuning that turns disaster recovery on for a region of these zones, backing up into {@code target}. */
    public static Map<String, String> drTuning(RegionLayout layout, String target, List<ZoneSpec> peerZones) {
        Map<String, String> t = new HashMap<>(layout.tuning());
        t.put("dr.enabled", "true");
        t.putIfAbsent("backup.target", target);
        t.put("dr.self.http", String.join(",", layout.zones().stream().map(z -> z.host() + ":" + z.httpPort()).toList()));
        if (!peerZones.isEmpty()) {
            t.put("dr.peer.health", String.join(",", peerZones.stream().map(z -> z.host() + ":" + z.httpPort()).toList()));
        }
        return t;
    }

    /** The name every named region's gateways answer with the gateways of whichever region is primary. */
    public static final String GLOBAL_NAME = "api.global." + RegionLayout.DOMAIN;

    /**
     * The gateway tuning for the global name over {@code regions} (those without gateways are left out);
     * empty when none has gateways.
     */
    public static Map<String, String> globalTuning(List<RegionLayout> regions) {
        List<String> entries = regions.stream().filter(r -> !r.gateways().isEmpty())
                .map(r -> r.region() + "=" + String.join("|", r.gateways().stream().map(g -> g.host() + ":" + g.adminPort()).toList()))
                .toList();
        if (entries.isEmpty()) {
            return Map.of();
        }
        return Map.of("gateway.global.name", GLOBAL_NAME, "gateway.global.regions", String.join(",", entries));
    }

    private static void checkName(String region) {
        if (region == null || !region.matches("[a-z][a-z0-9-]{0,30}")) {
            throw new IllegalArgumentException("a region name is lower-case letters, digits and '-', starting with a letter, not '" + region + "'");
        }
    }
}
