package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.cli.transfer.TenantClient;
import io.petrel.cli.transfer.TenantTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/**
 * {@code petrel ns restore NS --to-time T}: one namespace back to its state at T from the region's
 * backups, with an admin key of it; every other namespace stays as it is.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Bring a namespace back to its state at a past time, from the region's backups (an admin key of the namespace);"
                + " other namespaces are not touched.")
final class NamespaceRestoreCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAMESPACE", description = "the namespace ('_': the key's own)")
    String namespace;

    @Option(names = "--to-time", required = true, paramLabel = "T", description = "ISO-8601 with an offset (2026-12-01T16:30:00Z) or epoch ms")
    String toTime;

    @Option(names = "--dry-run", description = "show what the restore would change; change nothing")
    boolean dryRun;

    @Option(names = "--json", description = "print the report as JSON")
    boolean printJson;

    @Mixin
    TenantTarget target;

    @Override
    public Integer call() throws Exception {
        RestoreCommand.parseTime(toTime); // a bad time is named here, before the region is asked
        TenantClient client = TransferCommands.client(target);
        JsonNode report = client.restore(namespace, toTime, dryRun);
        if (printJson) {
            AdminCommand.printJson(report);
            return 0;
        }
        if (dryRun) {
            System.out.printf("dry run, nothing was changed: restoring namespace %s to %s would give: %s%n", namespace, toTime,
                    TransferCommands.counts(report));
            TransferCommands.itemLines(report, System.out);
        } else {
            System.out.printf("namespace %s restored to its state at %s: %s%n", namespace, toTime, TransferCommands.counts(report));
        }
        return 0;
    }
}
