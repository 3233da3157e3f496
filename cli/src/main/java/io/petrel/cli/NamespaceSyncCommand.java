package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.admin.RegionEndpoints;
import io.petrel.cli.transfer.TenantClient;
import io.petrel.cli.transfer.TenantTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/**
 * {@code petrel ns sync NS --to ENDPOINT}: brings a copy of a namespace in another region up to date.
 * Where the copy stands is kept in the target region (the position the last replace import
 * recorded), so any machine can run the next sync: it exports what changed since that position and
 * imports it with replace. The first sync, or one whose copy was changed meanwhile, sends everything.
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "Copy what changed in a namespace since the last sync to the same namespace in another region (the first sync copies"
                + " everything); afterwards the copy holds exactly what the namespace holds.")
final class NamespaceSyncCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NAMESPACE", description = "the namespace to copy")
    String namespace;

    @Option(names = "--to", required = true, paramLabel = "URL[,URL...]", description = "the other region's API")
    String to;

    @Option(names = "--to-dns", paramLabel = "HOST:PORT", description = "the DNS server that resolves names in --to")
    String toDns;

    @Option(names = "--to-auth", paramLabel = "UUID:KEY",
            description = "an admin key of the namespace in the other region (default: the --auth key, which the first sync copies there)")
    String toAuth;

    @Option(names = "--as", paramLabel = "NAMESPACE", description = "the namespace in the other region (default: the same name)")
    String as;

    @Option(names = "--full", description = "send everything, not only what changed since the last sync")
    boolean full;

    @Option(names = "--json", description = "print the import's report as JSON")
    boolean printJson;

    @Mixin
    TenantTarget source;

    @Override
    public Integer call() throws Exception {
        TenantClient from = TransferCommands.client(source);
        String key = toAuth != null ? TenantTarget.requireKeyShape(toAuth.trim(), "--to-auth") : from.auth();
        TenantClient into = new TenantClient(new RegionEndpoints(RegionEndpoints.parseList(to), Optional.ofNullable(toDns).map(RegionEndpoints::parseDns)),
                key, new ObjectMapper());
        String target = as != null ? as : namespace;
        long t0 = System.nanoTime();
        Optional<JsonNode> position;
        try {
            position = full ? Optional.empty() : into.syncPosition(target);
        } catch (TenantClient.TransferException e) {
            if (e.status() == 401 && toAuth == null) {
                throw new TenantClient.TransferException(401, "the other region does not know the --auth key (yet): the first sync of a namespace"
                        + " needs --to-auth with an admin key of namespace " + target + " there");
            }
            throw e;
        }
        JsonNode report;
        try {
            report = once(from, into, target, position);
        } catch (TenantClient.TransferException e) {
            if (e.status() != 409 || position.isEmpty()) {
                throw e;
            }
            // The copy was changed since it was synced, or lacks what it should hold: only a full copy puts it right.
            spec.commandLine().getErr().printf("the copy in %s does not continue from revision %d (%s); sending a full copy%n", to,
                    position.get().path("revision").asLong(), e.getMessage());
            report = once(from, into, target, Optional.empty());
        }
        if (printJson) {
            AdminCommand.printJson(report);
            return 0;
        }
        JsonNode archive = report.path("archive");
        System.out.printf(Locale.ROOT, "namespace %s synced to %s (namespace %s): %s at revision %d; %s (%.1f s)%n", namespace, to,
                report.path("namespace").asText(), archive.path("since").isNull() ? "a full copy" : "what changed since revision "
                        + archive.path("since").asLong(), archive.path("revision").asLong(), TransferCommands.counts(report),
                (System.nanoTime() - t0) / 1e9);
        for (JsonNode kept : report.path("kept").path("names")) {
            System.out.printf("kept %s, the key this sync used, which the namespace does not have: later syncs can go without --to-auth,"
                    + " and will remove it%n", kept.asText());
        }
        return 0;
    }

    /** One export from the source (the changes since {@code position}, if any) and its import with replace into the copy. */
    private JsonNode once(TenantClient from, TenantClient into, String target, Optional<JsonNode> position) throws Exception {
        Path archive = Files.createTempFile("petrel-sync-", ".zip");
        try {
            OptionalLong since = position.map(p -> OptionalLong.of(p.path("revision").asLong())).orElse(OptionalLong.empty());
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(archive), 64 * 1024)) {
                from.export(namespace, since, position.map(p -> p.path("sourceId").asText()), o, TransferCommands.progress(spec, "export " + namespace));
            }
            return into.importArchive(target, archive, "?onConflict=replace", TransferCommands.progress(spec, "import " + target));
        } finally {
            Files.deleteIfExists(archive);
        }
    }
}
