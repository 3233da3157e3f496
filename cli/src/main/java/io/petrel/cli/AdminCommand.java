package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.petrel.cli.admin.AdminClient;
import io.petrel.cli.admin.AdminTarget;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/** What the admin command groups share: reaching the admin API and printing its answers. */
abstract class AdminCommand {
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static AdminClient client(AdminTarget target) throws IOException {
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

    static void printJson(JsonNode node) throws IOException {
        System.out.println(PRETTY.writeValueAsString(node));
    }

    static String time(JsonNode millis) {
        return millis.isNumber() ? Instant.ofEpochMilli(millis.asLong()).toString() : "-";
    }
}
