package io.petrel.cli.backup;

import io.petrel.backup.BackupRepository;
import io.petrel.backup.format.BackupKey;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.target.BackupTargets;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Which backups a command reads: a target (default: the region's), with the key and the cluster. */
public final class BackupTargetOptions {
    @Option(names = "--from", paramLabel = "TARGET", description = "backup target: a directory or s3://bucket/prefix?endpoint=... "
            + "(default: the region's, DIR/backups for a local region)")
    String target;

    @Option(names = "--key-file", paramLabel = "FILE", description = "the backup key (32 bytes, hex or base64), if backups are encrypted")
    Path keyFile;

    @Option(names = "--key-env", paramLabel = "VAR", description = "an environment variable holding the backup key")
    String keyEnv;

    @Option(names = "--cluster", paramLabel = "ID", description = "which cluster's backups (default: the one whose backups reach furthest)")
    String cluster;

    public Optional<String> cluster() {
        return Optional.ofNullable(cluster);
    }

    public Optional<BackupKey> key() throws IOException {
        if (keyFile != null && keyEnv != null) {
            throw new IllegalArgumentException("give --key-file or --key-env, not both");
        }
        if (keyFile != null) {
            return Optional.of(BackupKey.fromFile(keyFile));
        }
        if (keyEnv != null) {
            return Optional.of(BackupKey.fromEnv(keyEnv, System.getenv()));
        }
        return Optional.empty();
    }

    /** Opens the target: {@code --from}, else {@code regionDefault}. */
    public BackupRepository open(String regionDefault) throws IOException {
        String spec = target != null ? target : regionDefault;
        if (spec == null) {
            throw new IllegalArgumentException("no backup target: give --from");
        }
        return new BackupRepository(BackupTargets.open(spec, System.getenv()), new ObjectCodec(key()));
    }
}
