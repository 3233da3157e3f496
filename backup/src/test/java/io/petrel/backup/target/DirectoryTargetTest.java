package io.petrel.backup.target;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DirectoryTargetTest extends BackupTargetContract {

    @Override
    protected BackupTarget open(Path scratch) throws IOException {
        return new DirectoryTarget(scratch.resolve("target"));
    }

    @Test
    void leavesNoTemporaryFilesBehind() throws IOException {
        Path file = scratch.resolve("f");
        Files.write(file, randomBytes(100_000, 3));
        target.put("a/b", file);
        target.put("a/b", new byte[3]);
        target.put("a/c", file);
        try (Stream<Path> all = Files.walk(((DirectoryTarget) target).root())) {
            assertThat(all.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("b", "c");
        }
    }
}
