package io.petrel.cli.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Folder helpers the backup commands share. */
public final class Files2 {
    private Files2() {
    }

    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Copies a state folder: table files (immutable) are hard-linked where the file system allows, the rest copied. */
    public static void copyState(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = to.resolve(f.getFileName());
                if (f.getFileName().toString().endsWith(".sst")) {
                    try {
                        Files.createLink(target, f);
                        continue;
                    } catch (IOException | UnsupportedOperationException e) {
                        // another file system: copy
                    }
                }
                Files.copy(f, target);
            }
        }
    }
}
