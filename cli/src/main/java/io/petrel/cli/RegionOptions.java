package io.petrel.cli;

import io.petrel.cli.local.LocalRegion;
import io.petrel.cli.local.NamedRegions;
import io.petrel.cli.local.NodeLauncher;
import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --data}: which local region a command is about. Without it, the last region {@code up}
 * started on this machine (recorded in {@code ~/.petrel/current-region}).
 */
final class RegionOptions {
    @Option(names = "--data", paramLabel = "DIR", description = "the region's data folder (default: the last region `up` started, else ~/.petrel/region)")
    Path data;

    @Option(names = "--region", paramLabel = "NAME", description = "a named region on this machine (started with `up --region NAME`)")
    String region;

    /** Petrel's folder for this user: {@code -Dpetrel.home}, else {@code $PETREL_HOME}, else {@code ~/.petrel}. */
    static Path home() {
        String property = System.getProperty("petrel.home");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv("PETREL_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".petrel");
    }

    Path resolve() throws IOException {
        if (data != null) {
            return data.toAbsolutePath();
        }
        return region != null ? new NamedRegions(home()).dir(region) : lastRegion();
    }

    /** The last region {@code up} started on this machine, else {@code ~/.petrel/region}. */
    static Path lastRegion() throws IOException {
        Path pointer = home().resolve("current-region");
        if (Files.exists(pointer)) {
            return Path.of(Files.readString(pointer).trim());
        }
        return home().resolve("region");
    }

    static void remember(Path dataDir) throws IOException {
        Files.createDirectories(home());
        Files.writeString(home().resolve("current-region"), dataDir.toAbsolutePath() + "\n");
    }

    LocalRegion open() throws IOException {
        Path dir = resolve();
        return new LocalRegion(RegionLayout.load(dir), launcher(dir));
    }

    static NodeLauncher launcher(Path dataDir) {
        return NodeLauncher.current(dataDir.resolve("petrel-node.jsa"));
    }
}
