package io.petrel.cli;

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

import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/** {@code petrel ns export NS --out FILE [--since REV]}: a namespace to one archive file, with the tenant's own key. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a namespace (actions and their code, packages, triggers, rules, its policy, its key identities, artifacts)"
                + " to one archive file, with a key of the namespace.")
final class NamespaceExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NAMESPACE", description = "the namespace ('_': the key's own)")
    String namespace;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the archive file to write (replaced only once the archive is whole)")
    Path out;

    @Option(names = "--since", paramLabel = "REV",
            description = "only what changed after store revision REV, with the names of everything present (an archive for `ns import --on-conflict replace`)")
    Long since;

    @Option(names = "--encrypt-key-file", paramLabel = "FILE",
            description = "encrypt the archive (AES-256-GCM) with this 32-byte key (raw, hex or base64); the key never leaves this machine")
    Path encryptKeyFile;

    @Option(names = "--encrypt-key-env", paramLabel = "VAR", description = "encrypt with the key in this environment variable")
    String encryptKeyEnv;

    @Mixin
    TenantTarget target;

    @Override
    public Integer call() throws Exception {
        TenantClient client = TransferCommands.client(target);
        Path file = out.toAbsolutePath();
        Files.createDirectories(file.getParent());
        // Downloaded beside the file and moved over it only once it is whole and checked: a failed export leaves no half archive.
        Path part = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".part");
        try {
            long t0 = System.nanoTime();
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(part), 64 * 1024)) {
                client.export(namespace, since == null ? OptionalLong.empty() : OptionalLong.of(since), Optional.empty(), o,
                        TransferCommands.progress(spec, "export " + namespace));
            }
            ArchiveManifest m;
            try {
                m = NamespaceArchive.verify(part, new ObjectMapper());
            } catch (ArchiveException e) {
                throw new TenantClient.TransferException(0, "the archive the region sent is not whole (" + e.getMessage() + "); export again");
            }
            ArchiveEnvelope envelope = TransferCommands.envelope(TransferCommands.key(encryptKeyFile, encryptKeyEnv));
            if (envelope.plain()) {
                Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } else {
                Path sealed = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".sealed");
                try (InputStream in = Files.newInputStream(part); OutputStream o = envelope.seal(Files.newOutputStream(sealed))) {
                    in.transferTo(o);
                }
                Files.move(sealed, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            System.out.printf(Locale.ROOT, "namespace %s exported at revision %d%s to %s (%.1f MB in %.1f s): %s%n", m.namespace(), m.revision(),
                    m.since().isPresent() ? ", what changed since revision " + m.since().getAsLong() : "", file, Files.size(file) / 1e6,
                    (System.nanoTime() - t0) / 1e9, counts(m));
            return 0;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    static String counts(ArchiveManifest m) {
        StringBuilder b = new StringBuilder();
        m.counts().forEach((kind, n) -> b.append(b.isEmpty() ? "" : ", ").append(n).append(' ').append(kind));
        return b.toString();
    }
}
