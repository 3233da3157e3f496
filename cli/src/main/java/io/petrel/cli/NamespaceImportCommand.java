package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.transfer.ArchiveException;
import io.petrel.api.transfer.ArchiveManifest;
import io.petrel.api.transfer.NamespaceArchive;
import io.petrel.cli.transfer.ArchiveEnvelope;
import io.petrel.cli.transfer.TenantClient;
import io.petrel.cli.transfer.TenantTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code petrel ns import FILE [--as NS] [--dry-run] [--on-conflict ...]}: an archive into a namespace, with an admin key of it. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import an archive into an existing namespace, with an admin key of it. The whole archive is checked first:"
                + " if anything in it is wrong, nothing is changed.")
final class NamespaceImportCommand implements Callable<Integer> {
    private static final List<String> POLICIES = List.of("skip", "overwrite", "fail", "replace");
    private final ObjectMapper json = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "an archive `petrel ns export` wrote")
    Path file;

    @Option(names = "--as", paramLabel = "NAMESPACE", description = "the namespace to import into (default: the archive's)")
    String as;

    @Option(names = "--dry-run", description = "show what the import would do; change nothing")
    boolean dryRun;

    @Option(names = "--on-conflict", paramLabel = "POLICY", defaultValue = "fail",
            description = "for an item the namespace holds with other content: skip (keep it), overwrite, fail (change nothing; the default),"
                    + " or replace (overwrite, and delete what the archive does not hold)")
    String onConflict;

    @Option(names = "--no-keys", description = "leave the namespace's keys as they are; import no key identities")
    boolean noKeys;

    @Option(names = "--json", description = "print the import's report as JSON")
    boolean printJson;

    @Option(names = "--key-file", paramLabel = "FILE", description = "the key of an encrypted archive")
    Path keyFile;

    @Option(names = "--key-env", paramLabel = "VAR", description = "an environment variable holding the key of an encrypted archive")
    String keyEnv;

    @Mixin
    TenantTarget target;

    @Override
    public Integer call() throws Exception {
        String policy = onConflict.trim().toLowerCase(Locale.ROOT);
        if (!POLICIES.contains(policy)) {
            throw new IllegalArgumentException("--on-conflict must be one of " + POLICIES + ", got '" + onConflict + "'");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("cannot read " + file);
        }
        TenantClient client = TransferCommands.client(target);
        ArchiveEnvelope envelope = TransferCommands.envelopeOf(file, TransferCommands.key(keyFile, keyEnv));
        Path plain = envelope.plain() ? file : Files.createTempFile("petrel-import-", ".zip");
        try {
            if (!envelope.plain()) {
                try (InputStream in = envelope.open(Files.newInputStream(file)); OutputStream o = Files.newOutputStream(plain)) {
                    in.transferTo(o);
                }
            }
            ArchiveManifest m;
            try {
                // Checked here first, so that a broken file is refused before a byte of it is sent.
                m = NamespaceArchive.verify(plain, json);
            } catch (ArchiveException e) {
                throw new TenantClient.TransferException(0, file + " is refused: " + e.getMessage());
            }
            String ns = as != null ? as : m.namespace();
            String query = "?onConflict=" + policy + (dryRun ? "&dryRun=true" : "") + (noKeys ? "&keys=false" : "");
            JsonNode report = client.importArchive(ns, plain, query, TransferCommands.progress(spec, "import " + ns));
            if (printJson) {
                AdminCommand.printJson(report);
                return 0;
            }
            String what = "archive of namespace " + m.namespace() + " (revision " + m.revision()
                    + (m.since().isPresent() ? ", changes since " + m.since().getAsLong() : "") + ")";
            if (dryRun) {
                System.out.printf("dry run, nothing was changed: importing the %s into namespace %s with --on-conflict %s would give: %s%n",
                        what, ns, policy, TransferCommands.counts(report));
                TransferCommands.itemLines(report, System.out);
            } else {
                System.out.printf("imported the %s into namespace %s with --on-conflict %s: %s%n", what, ns, policy, TransferCommands.counts(report));
            }
            return 0;
        } finally {
            if (!plain.equals(file)) {
                Files.deleteIfExists(plain);
            }
        }
    }
}
