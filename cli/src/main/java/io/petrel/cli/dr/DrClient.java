package io.petrel.cli.dr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Talks to a local region's zones about disaster recovery ({@code /admin/v1/dr...} on their HTTP port). */
public final class DrClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    /** Every zone's {@code /admin/v1/dr}, skipping zones that do not answer. */
    public List<JsonNode> statuses(RegionLayout layout) {
        List<JsonNode> out = new ArrayList<>();
        for (ZoneSpec z : layout.zones()) {
            get(z, "/admin/v1/dr").ifPresent(out::add);
        }
        return out;
    }

    /** The status of the zone that leads, if one answers. */
    public Optional<JsonNode> leaderStatus(RegionLayout layout) {
        return statuses(layout).stream().filter(s -> s.path("leads").asBoolean(false)).findFirst();
    }

    /** POSTs {@code path} to the region's leader (zones that do not lead answer 409); throws with the last answer if none took it. */
    public JsonNode postToLeader(RegionLayout layout, String path, Duration timeout) throws IOException {
        String last = "no zone of region " + layout.region() + " answered";
        for (int round = 0; round < 20; round++) {
            for (ZoneSpec z : layout.zones()) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(z.httpUrl() + path)).timeout(timeout)
                            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        return JSON.readTree(r.body());
                    }
                    last = "zone " + z.zone() + " answered " + r.statusCode() + ": " + JSON.readTree(r.body()).path("error").asText(r.body());
                    if (r.statusCode() != 409 || !last.contains("does not lead")) {
                        throw new IOException(last);
                    }
                } catch (IOException e) {
                    if (e.getMessage() != null && e.getMessage().equals(last)) {
                        throw e;
                    }
                    last = "zone " + z.zone() + ": " + e.getMessage();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            sleep();
        }
        throw new IOException(last);
    }

    private Optional<JsonNode> get(ZoneSpec z, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(z.httpUrl() + path)).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static void sleep() throws IOException {
        try {
            Thread.sleep(250);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
