package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.cli.admin.AdminTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Iterator;
import java.util.Map;

/** {@code petrel limits get|set}: a namespace's limits, in the shape {@code GET /limits} answers. */
@Command(name = "limits", mixinStandardHelpOptions = true, description = "Show or change a namespace's limits.")
final class LimitsCommand extends AdminCommand {

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a namespace's limits.")
    int get(@Parameters(paramLabel = "NAMESPACE") String namespace, @Mixin AdminTarget target,
            @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        print(client(target).limits(namespace), json);
        return 0;
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Change limits, e.g. `petrel limits set acme concurrentInvocations=100 artifactQuotaBytes=10737418240`.")
    int set(@Parameters(index = "0", paramLabel = "NAMESPACE") String namespace,
            @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME=VALUE") Map<String, String> changes,
            @Mixin AdminTarget target, @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        for (Map.Entry<String, String> e : changes.entrySet()) {
            try {
                body.put(e.getKey(), Long.parseLong(e.getValue().trim()));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("limit " + e.getKey() + " must be an integer, not '" + e.getValue() + "'");
            }
        }
        print(client(target).setLimits(namespace, body), json);
        return 0;
    }

    private static void print(JsonNode limits, boolean json) throws Exception {
        if (json) {
            printJson(limits);
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = limits.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            System.out.printf("%-28s %s%n", e.getKey(), e.getValue().asText());
        }
    }
}
