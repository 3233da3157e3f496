package io.petrel.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.cli.admin.AdminTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code petrel policy get|set}: a namespace's security policy, through the admin API. */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Show or change a namespace's security policy: allowed kinds, stored activations, who may use its published packages.")
final class PolicyCommand extends AdminCommand {

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a namespace's policy.")
    int get(@Parameters(paramLabel = "NAMESPACE") String namespace, @Mixin AdminTarget target) throws Exception {
        printJson(client(target).policy(namespace));
        return 0;
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change the fields given; the others stay.")
    int set(@Parameters(paramLabel = "NAMESPACE") String namespace, @Mixin AdminTarget target,
            @Option(names = "--allowed-kinds", split = ",", paramLabel = "KIND",
                    description = "the only kinds its actions may use, e.g. nodejs:20,python:3; 'any' lifts the limit") List<String> kinds,
            @Option(names = "--store-activations", paramLabel = "true|false", description = "whether its activations are recorded") Boolean store,
            @Option(names = "--package-readers", split = ",", paramLabel = "NS",
                    description = "namespaces that may read its published packages, '*' for all") List<String> readers,
            @Option(names = "--package-invokers", split = ",", paramLabel = "NS",
                    description = "namespaces that may invoke actions of its published packages, '*' for all") List<String> invokers)
            throws Exception {
        ObjectNode changes = JsonNodeFactory.instance.objectNode();
        if (kinds != null) {
            if (kinds.equals(List.of("any"))) {
                changes.putNull("allowedKinds");
            } else {
                kinds.forEach(changes.putArray("allowedKinds")::add);
            }
        }
        if (store != null) {
            changes.put("storeActivations", store);
        }
        if (readers != null) {
            ArrayNode a = changes.putArray("packageReaders");
            readers.forEach(a::add);
        }
        if (invokers != null) {
            ArrayNode a = changes.putArray("packageInvokers");
            invokers.forEach(a::add);
        }
        if (changes.isEmpty()) {
            throw new IllegalArgumentException("nothing to change: give --allowed-kinds, --store-activations, --package-readers or --package-invokers");
        }
        printJson(client(target).setPolicy(namespace, changes));
        return 0;
    }
}
