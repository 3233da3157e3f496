package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.backup.format.BackupKey;
import io.petrel.cli.transfer.ArchiveEnvelope;
import io.petrel.cli.transfer.SealedEnvelope;
import io.petrel.cli.transfer.TenantClient;
import io.petrel.cli.transfer.TenantTarget;
import io.petrel.cli.transfer.TransferProgress;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** What {@code ns export}, {@code ns import} and {@code ns sync} share: the client, the envelope, progress, and how a report reads. */
final class TransferCommands {
    private TransferCommands() {
    }

    static TenantClient client(TenantTarget target) throws IOException {
        return target.connect(System.getenv(), () -> {
            try {
                if (target.region().isPresent()) {
                    return new io.petrel.cli.local.NamedRegions(RegionOptions.home()).dir(target.region().get());
                }
                return RegionOptions.lastRegion();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** How an exported archive goes to disk: encrypted with {@code key} if one is given, else as the plain zip. */
    static ArchiveEnvelope envelope(Optional<BackupKey> key) {
        return key.<ArchiveEnvelope>map(SealedEnvelope::new).orElse(ArchiveEnvelope.PLAIN);
    }

    /** How an archive file on disk is read: it says itself whether it is encrypted, and with which key. */
    static ArchiveEnvelope envelopeOf(Path file, Optional<BackupKey> key) throws IOException {
        Optional<String> needed = SealedEnvelope.keyOf(file);
        if (needed.isEmpty()) {
            return ArchiveEnvelope.PLAIN;
        }
        if (key.isEmpty()) {
            throw new IllegalArgumentException(file + " is encrypted (key " + needed.get() + "); give its key with --key-file or --key-env");
        }
        return new SealedEnvelope(key.get());
    }

    /** A key from {@code --...-key-file} or {@code --...-key-env}, if either is given. */
    static Optional<BackupKey> key(Path keyFile, String keyEnv) throws IOException {
        if (keyFile != null && keyEnv != null) {
            throw new IllegalArgumentException("give a key file or a key variable, not both");
        }
        if (keyFile != null) {
            return Optional.of(BackupKey.fromFile(keyFile));
        }
        return keyEnv == null ? Optional.empty() : Optional.of(BackupKey.fromEnv(keyEnv, System.getenv()));
    }

    /** Progress lines for one transfer, on the command's error stream. */
    static TransferProgress progress(CommandSpec spec, String label) {
        return new TransferProgress(label, spec.commandLine().getErr(), System::nanoTime);
    }

    /** {@code created 3, overwritten 1, ...}: the counts of an import report. */
    static String counts(JsonNode report) {
        return String.format(Locale.ROOT, "created %d, overwritten %d, skipped %d, deleted %d, unchanged %d", count(report, "created"),
                count(report, "overwritten"), count(report, "skipped"), count(report, "deleted"), report.path("unchanged").path("count").asInt());
    }

    private static int count(JsonNode report, String what) {
        return report.path(what).path("count").asInt();
    }

    /** One line per item a report names: what happens to it. */
    static void itemLines(JsonNode report, PrintStream out) {
        String[][] verbs = {{"created", "create"}, {"overwritten", "overwrite"}, {"skipped", "skip"}, {"deleted", "delete"}, {"kept", "keep"}};
        for (String[] v : verbs) {
            for (JsonNode name : report.path(v[0]).path("names")) {
                out.printf("  %-9s %s%n", v[1], name.asText());
            }
        }
    }
}
