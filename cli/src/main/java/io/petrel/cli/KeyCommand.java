package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.cli.admin.AdminTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code petrel key create|list|revoke}: a namespace's API keys, through the admin API. */
@Command(name = "key", mixinStandardHelpOptions = true, description = "Create, list or revoke a namespace's API keys.")
final class KeyCommand extends AdminCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Add a key to a namespace; prints uuid:key (shown only once).")
    int create(@Parameters(paramLabel = "NAMESPACE") String namespace, @Mixin AdminTarget target,
               @Option(names = "--role", paramLabel = "ROLE", description = "admin, developer (the default), invoker or reader") String role,
               @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        JsonNode k = client(target).createKey(namespace, role);
        if (json) {
            printJson(k);
        } else {
            System.out.printf("key %s (%s) created for namespace %s%nauth %s%n", k.path("uuid").asText(), k.path("role").asText(), namespace,
                    k.path("auth").asText());
        }
        return 0;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List a namespace's keys (never their secrets).")
    int list(@Parameters(paramLabel = "NAMESPACE") String namespace, @Mixin AdminTarget target,
             @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        JsonNode keys = client(target).keys(namespace);
        if (json) {
            printJson(keys);
            return 0;
        }
        System.out.printf("%-36s  %-9s  %s%n", "UUID", "ROLE", "CREATED");
        for (JsonNode k : keys) {
            System.out.printf("%-36s  %-9s  %s%n", k.path("uuid").asText(), k.path("role").asText(), time(k.path("created")));
        }
        return 0;
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a key: every zone refuses it within a second.")
    int revoke(@Parameters(index = "0", paramLabel = "NAMESPACE") String namespace,
               @Parameters(index = "1", paramLabel = "UUID") String uuid, @Mixin AdminTarget target) throws Exception {
        client(target).revokeKey(namespace, uuid);
        System.out.printf("key %s of namespace %s revoked%n", uuid, namespace);
        return 0;
    }
}
