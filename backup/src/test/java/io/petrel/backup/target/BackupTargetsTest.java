package io.petrel.backup.target;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The spec forms; opening an s3:// spec against a server is in {@link S3TargetTest}. */
class BackupTargetsTest {
    @TempDir
    Path dir;

    @Test
    void directoryForms() throws IOException {
        assertRoot(BackupTargets.open(dir.resolve("plain").toString(), Map.of()), dir.resolve("plain"));
        assertRoot(BackupTargets.open("dir:" + dir.resolve("d"), Map.of()), dir.resolve("d"));
        assertRoot(BackupTargets.open("file:" + dir.resolve("f1"), Map.of()), dir.resolve("f1"));
        assertRoot(BackupTargets.open(dir.resolve("f2").toUri().toString(), Map.of()), dir.resolve("f2"));
        assertRoot(BackupTargets.open("dir:relative/backups", Map.of()), Path.of("relative/backups").toAbsolutePath());
    }

    @Test
    void directoryTargetsCreateTheirFolder() throws IOException {
        try (BackupTarget t = BackupTargets.open("dir:" + dir.resolve("new/deeper"), Map.of())) {
            t.put("x", new byte[1]);
        }
        assertThat(dir.resolve("new/deeper/x")).isRegularFile();
    }

    @Test
    void unknownOrBrokenSpecsAreRefused() {
        assertThatThrownBy(() -> BackupTargets.open("ftp://host/backups", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown kind of backup target 'ftp://host/backups'")
                .hasMessageContaining("s3://BUCKET").hasMessageContaining("dir:/PATH").hasMessageContaining("file:/PATH")
                .hasMessageContaining("plain path");
        assertThatThrownBy(() -> BackupTargets.open("gs://bucket?secretKey=HIDDEN", Map.of()))
                .hasMessageNotContaining("HIDDEN");
        assertThatThrownBy(() -> BackupTargets.open("", Map.of())).hasMessageContaining("empty backup target");
        assertThatThrownBy(() -> BackupTargets.open("dir:", Map.of())).hasMessageContaining("names no directory");
        assertThatThrownBy(() -> BackupTargets.open("file:relative", Map.of())).hasMessageContaining("not an absolute file URI");
        assertThatThrownBy(() -> BackupTargets.open("s3://backups", Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no credentials");
    }

    private static void assertRoot(BackupTarget target, Path root) throws IOException {
        try (target) {
            assertThat(target).isInstanceOf(DirectoryTarget.class);
            assertThat(((DirectoryTarget) target).root()).isEqualTo(root.toAbsolutePath().normalize());
        }
    }
}
