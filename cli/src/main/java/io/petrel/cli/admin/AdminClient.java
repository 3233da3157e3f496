package io.petrel.cli.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Petrel's admin API ({@code /admin/v1/namespaces}) over HTTP, for the command line. Every failure
 * becomes an {@link AdminException} whose message tells the operator what to do.
 *
 * <p>It fails over between the region's endpoints by itself: a request that could not connect goes
 * to the next endpoint; a read also when its connection broke or the endpoint answered 502, 503 or
 * 504. A write that reached an endpoint is not sent again: admin writes (a new key, say) are not
 * idempotent.
 */
public final class AdminClient {
    private final RegionEndpoints endpoints;
    private final String adminKey;
    private final HttpClient http;
    private final ObjectMapper json;

    public AdminClient(RegionEndpoints endpoints, String adminKey, ObjectMapper json) {
        this.endpoints = requireNonNull(endpoints, "endpoints");
        this.adminKey = requireNonNull(adminKey, "adminKey");
        this.json = requireNonNull(json, "json");
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    public JsonNode listNamespaces() {
        return send("GET", "", null);
    }

    public JsonNode createNamespace(String name) {
        return send("POST", "", json.createObjectNode().put("name", name));
    }

    public JsonNode namespace(String name) {
        return send("GET", "/" + segment(name), null);
    }

    public JsonNode deleteNamespace(String name) {
        return send("DELETE", "/" + segment(name), null);
    }

    public JsonNode keys(String namespace) {
        return send("GET", "/" + segment(namespace) + "/keys", null);
    }

    public JsonNode createKey(String namespace, String role) {
        return send("POST", "/" + segment(namespace) + "/keys", role == null ? null : json.createObjectNode().put("role", role));
    }

    public JsonNode policy(String namespace) {
        return send("GET", "/" + segment(namespace) + "/policy", null);
    }

    public JsonNode setPolicy(String namespace, JsonNode changes) {
        return send("PUT", "/" + segment(namespace) + "/policy", changes);
    }

    public JsonNode revokeKey(String namespace, String uuid) {
        return send("DELETE", "/" + segment(namespace) + "/keys/" + segment(uuid), null);
    }

    public JsonNode limits(String namespace) {
        return send("GET", "/" + segment(namespace) + "/limits", null);
    }

    public JsonNode setLimits(String namespace, JsonNode changes) {
        return send("PUT", "/" + segment(namespace) + "/limits", changes);
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, String path, JsonNode body) {
        boolean read = method.equals("GET");
        List<URI> all = endpoints.resolve();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            URI api = all.get(i);
            boolean last = i == all.size() - 1;
            URI uri = api.resolve("/admin/v1/namespaces" + path);
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + adminKey)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.toString()));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException e) {
                failures.add(api + ": connection refused");
                continue;
            } catch (HttpConnectTimeoutException e) {
                failures.add(api + ": no connection within 2 s");
                continue;
            } catch (HttpTimeoutException e) {
                failures.add(api + ": no answer within 30 s");
                if (read) {
                    continue;
                }
                throw new AdminException("the Petrel API at " + api + " did not answer within 30 s; the " + method
                        + " may or may not have been applied: check before sending it again");
            } catch (IOException e) {
                failures.add(api + ": " + e.getMessage());
                if (read) {
                    continue;
                }
                throw new AdminException("the connection to the Petrel API at " + api + " broke (" + e.getMessage() + "); the " + method
                        + " may or may not have been applied: check before sending it again");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AdminException("interrupted");
            }
            if (read && !last && (r.statusCode() == 502 || r.statusCode() == 503 || r.statusCode() == 504)) {
                failures.add(api + ": HTTP " + r.statusCode());
                continue;
            }
            return answer(method, uri, api, r);
        }
        throw new AdminException("no Petrel API answers at " + String.join(", ", failures) + "; start a local region with "
                + "./petrel up, or point --api (or PETREL_API) at a running one");
    }

    private JsonNode answer(String method, URI uri, URI api, HttpResponse<String> r) {
        JsonNode answer;
        try {
            answer = r.body().isEmpty() ? json.nullNode() : json.readTree(r.body());
        } catch (IOException e) {
            throw new AdminException(method + " " + uri + " answered " + r.statusCode() + " with a body that is not JSON: "
                    + abbreviate(r.body()));
        }
        if (r.statusCode() >= 300) {
            String error = answer.path("error").asText(abbreviate(r.body()));
            throw new AdminException(switch (r.statusCode()) {
                case 401 -> "the admin key was refused by " + api + " (" + error + "); check --admin-key-file or PETREL_ADMIN_KEY";
                case 404 -> "not found: " + error;
                default -> error + " (HTTP " + r.statusCode() + ")";
            });
        }
        return answer;
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    /** A request the admin API refused, or one that never reached it. */
    public static final class AdminException extends RuntimeException {
        public AdminException(String message) {
            super(message);
        }
    }
}
