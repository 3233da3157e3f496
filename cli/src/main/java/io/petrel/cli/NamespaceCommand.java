package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.cli.admin.AdminClient;
import io.petrel.cli.admin.AdminTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code petrel ns create|list|get|delete}: tenants, through the admin API. */
@Command(name = "ns", mixinStandardHelpOptions = true, description = "Create, list, show or delete namespaces (tenants); export, import or sync one.",
        subcommands = {NamespaceExportCommand.class, NamespaceImportCommand.class, NamespaceSyncCommand.class, NamespaceRestoreCommand.class})
final class NamespaceCommand extends AdminCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a namespace and its first key; prints the key.")
    int create(@Parameters(paramLabel = "NAME") String name, @Mixin AdminTarget target,
               @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        JsonNode k = client(target).createNamespace(name);
        if (json) {
            printJson(k);
        } else {
            System.out.printf("namespace %s created%nauth %s%n", k.path("namespace").asText(), k.path("auth").asText());
        }
        return 0;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the namespaces.")
    int list(@Mixin AdminTarget target, @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        JsonNode all = client(target).listNamespaces();
        if (json) {
            printJson(all);
            return 0;
        }
        System.out.printf("%-40s %5s  %s%n", "NAMESPACE", "KEYS", "CREATED");
        for (JsonNode ns : all) {
            System.out.printf("%-40s %5d  %s%n", ns.path("name").asText(), ns.path("keys").asInt(), time(ns.path("created")));
        }
        return 0;
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a namespace with its keys and limits.")
    int get(@Parameters(paramLabel = "NAME") String name, @Mixin AdminTarget target) throws Exception {
        AdminClient c = client(target);
        com.fasterxml.jackson.databind.node.ObjectNode out = c.namespace(name).deepCopy();
        out.set("keys", c.keys(name));
        out.set("limits", c.limits(name));
        printJson(out);
        return 0;
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete a namespace with its keys and everything stored in it.")
    int delete(@Parameters(paramLabel = "NAME") String name, @Mixin AdminTarget target) throws Exception {
        client(target).deleteNamespace(name);
        System.out.printf("namespace %s deleted with its keys, entities, activations and artifacts%n", name);
        return 0;
    }
}
