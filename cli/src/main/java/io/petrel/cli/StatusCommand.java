package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.petrel.cli.dr.DrClient;
import io.petrel.cli.local.LocalRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code petrel status}: the local region, one zone a row. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the local region's zones (role, term, indexes).")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    RegionOptions region;

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Exception {
        LocalRegion r = region.open();
        List<Map<String, Object>> rows = r.statusRows();
        Optional<JsonNode> dr = r.layout().tuning().containsKey("dr.enabled") ? new DrClient().leaderStatus(r.layout()) : Optional.empty();
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("region", r.layout().region());
            out.put("dataDir", r.layout().dataDir().toString());
            out.put("zones", rows);
            out.put("gateways", r.gatewayRows());
            dr.ifPresent(d -> out.put("dr", d));
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
            return 0;
        }
        System.out.printf("region '%s' (%s)%n", r.layout().region(), r.layout().dataDir());
        dr.ifPresent(d -> System.out.printf("disaster recovery: %s in epoch %d%s%s%s%n", d.path("role").asText(), d.path("epoch").asLong(),
                "PRIMARY".equals(d.path("role").asText()) ? (d.path("writable").asBoolean() ? ", taking writes" : ", FENCED: " + d.path("problem").asText())
                        : ", primary " + d.path("primary").asText(),
                d.path("lagEntries").asLong(-1) >= 0 ? String.format(", %d entries (%d ms) behind", d.path("lagEntries").asLong(),
                        d.path("lagMillis").asLong()) : "",
                d.path("failoverInMs").asLong(-1) >= 0 && d.path("primarySeenMsAgo").asLong() > 2000
                        ? String.format(", primary unseen for %d ms, promoting in %d ms", d.path("primarySeenMsAgo").asLong(), d.path("failoverInMs").asLong())
                        : ""));
        String fmt = "%-5s %-4s %-10s %-7s %6s %12s %12s %10s  %s%n";
        System.out.printf(fmt, "ZONE", "UP", "ROLE", "LEADER", "TERM", "COMMIT", "APPLIED", "REVISION", "STATUS URL");
        for (Map<String, Object> row : rows) {
            System.out.printf(fmt, row.get("zone"), (Boolean) row.get("up") ? "yes" : "no", row.get("role"),
                    dash(row.get("leader")), dash(row.get("term")), dash(row.get("commitIndex")), dash(row.get("appliedIndex")),
                    dash(row.get("revision")), row.get("statusUrl"));
        }
        String gfmt = "%-8s %-4s %-16s %-26s %-22s %s%n";
        System.out.printf(gfmt, "GATEWAY", "UP", "ROUTES TO", "API", "DNS", "STATUS URL");
        for (Map<String, Object> row : r.gatewayRows()) {
            System.out.printf(gfmt, row.get("gateway"), (Boolean) row.get("up") ? "yes" : "no", String.join(",", (List<String>) row.get("routableZones")),
                    row.get("apiUrl"), row.get("dns"), row.get("statusUrl"));
        }
        return 0;
    }

    private static Object dash(Object o) {
        return o == null ? "-" : o;
    }
}
