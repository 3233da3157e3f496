package io.petrel.cli.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.admin.RegionEndpoints;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * A tenant's side of a region's API, with the tenant's own key: export a namespace to a file,
 * import a file, read a namespace's sync position. Like the admin client, it fails over between
 * the region's endpoints: a request that could not connect goes to the next; a read also on a 502,
 * 503 or 504. An import that reached an endpoint is not sent again by this client (sending it
 * again is safe, though: the second one finds the items unchanged).
 */
public final class TenantClient {
    private static final Duration TRANSFER_TIMEOUT = Duration.ofMinutes(30);
    private final RegionEndpoints endpoints;
    private final String auth;
    private final ObjectMapper json;
    private final HttpClient http;

    public TenantClient(RegionEndpoints endpoints, String auth, ObjectMapper json) {
        this.endpoints = requireNonNull(endpoints, "endpoints");
        this.auth = requireNonNull(auth, "auth");
        this.json = requireNonNull(json, "json");
        // HTTP/1.1: archives are long streams, and the API speaks nothing else.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    }

    /** The key this client sends ({@code uuid:key}). */
    public String auth() {
        return auth;
    }

    /** A request the API refused ({@code status} its answer), or one that reached no endpoint ({@code status} 0). */
    public static final class TransferException extends RuntimeException {
        private final int status;

        public TransferException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** What an export answered: the revision it was taken at and how many bytes came. */
    public record Exported(long revision, long bytes) {
    }

    /** Streams namespace {@code ns}'s archive into {@code out} (not closed); {@code since}/{@code from} ask for the changes only. */
    public Exported export(String ns, OptionalLong since, Optional<String> from, OutputStream out, TransferProgress progress) {
        StringBuilder query = new StringBuilder();
        since.ifPresent(s -> query.append(query.isEmpty() ? "?" : "&").append("since=").append(s));
        from.ifPresent(f -> query.append(query.isEmpty() ? "?" : "&").append("from=").append(encode(f)));
        HttpResponse<InputStream> r = send("/api/v1/namespaces/" + encode(ns) + "/export" + query, "GET", HttpRequest.BodyPublishers.noBody(),
                true, HttpResponse.BodyHandlers.ofInputStream());
        progress.start(r.headers().firstValueAsLong("content-length").orElse(-1));
        try (InputStream in = progress.counting(r.body())) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new TransferException(0, "the export of namespace " + ns + " broke off after " + progress.done() + " bytes (" + e.getMessage()
                    + "); export again");
        }
        progress.finish();
        long revision = r.headers().firstValueAsLong("x-petrel-archive-revision").orElse(-1);
        return new Exported(revision, progress.done());
    }

    /** Sends the archive in {@code file} to be imported into {@code ns}; {@code query} is the import's parameters. Returns the report. */
    public JsonNode importArchive(String ns, Path file, String query, TransferProgress progress) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
            try {
                progress.start(size);
                return progress.counting(Files.newInputStream(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }), size);
        HttpResponse<String> r = send("/api/v1/namespaces/" + encode(ns) + "/import" + query, "POST", body, false, HttpResponse.BodyHandlers.ofString());
        progress.finish();
        return parse(r.body(), r.uri());
    }

    /** Where namespace {@code ns}'s copy stands in this region, if it is one. */
    /** Brings namespace {@code ns} back to its state at {@code toTime} from the region's backups; the answer is the import's report. */
    public JsonNode restore(String ns, String toTime, boolean dryRun) {
        HttpResponse<String> r = send("/api/v1/namespaces/" + encode(ns) + "/restore?toTime=" + encode(toTime) + (dryRun ? "&dryRun=true" : ""),
                "POST", HttpRequest.BodyPublishers.noBody(), false, HttpResponse.BodyHandlers.ofString());
        return parse(r.body(), r.uri());
    }

    public Optional<JsonNode> syncPosition(String ns) {
        try {
            HttpResponse<String> r = send("/api/v1/namespaces/" + encode(ns) + "/sync", "GET", HttpRequest.BodyPublishers.noBody(), true,
                    HttpResponse.BodyHandlers.ofString());
            return Optional.of(parse(r.body(), r.uri()));
        } catch (TransferException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode parse(String body, URI uri) {
        try {
            return json.readTree(body);
        } catch (IOException e) {
            throw new TransferException(0, uri + " answered with a body that is not JSON: " + abbreviate(body));
        }
    }

    /** Sends to each endpoint in turn until one answers; any answer but 200 becomes a {@link TransferException}. */
    private <T> HttpResponse<T> send(String path, String method, HttpRequest.BodyPublisher body, boolean read, HttpResponse.BodyHandler<T> handler) {
        List<URI> all = endpoints.resolve();
        List<String> failures = new ArrayList<>();
        String basic = "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < all.size(); i++) {
            URI api = all.get(i);
            boolean last = i == all.size() - 1;
            HttpRequest.Builder b = HttpRequest.newBuilder(api.resolve(path)).timeout(TRANSFER_TIMEOUT).header("Authorization", basic)
                    .method(method, body);
            if (method.equals("POST")) {
                b.header("Content-Type", "application/zip");
            }
            HttpResponse<T> r;
            try {
                r = http.send(b.build(), handler);
            } catch (ConnectException e) {
                failures.add(api + ": connection refused");
                continue;
            } catch (HttpConnectTimeoutException e) {
                failures.add(api + ": no connection within 2 s");
                continue;
            } catch (IOException e) {
                if (read) {
                    failures.add(api + ": " + e.getMessage());
                    continue;
                }
                throw new TransferException(0, "the connection to " + api + " broke during the import (" + e.getMessage()
                        + "); importing the same archive again is safe: what was imported already is found unchanged");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TransferException(0, "interrupted");
            }
            int status = r.statusCode();
            if (read && !last && (status == 502 || status == 503 || status == 504)) {
                failures.add(api + ": HTTP " + status);
                discard(r);
                continue;
            }
            if (status != 200) {
                throw refused(api, status, errorOf(r));
            }
            return r;
        }
        throw new TransferException(0, "no Petrel API answers at " + String.join(", ", failures) + "; point --api (or PETREL_API) at the region");
    }

    private static void discard(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try (in) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the answer was an error already
            }
        }
    }

    private String errorOf(HttpResponse<?> r) {
        String text;
        if (r.body() instanceof InputStream in) {
            try (in) {
                text = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
        } else {
            text = String.valueOf(r.body());
        }
        try {
            return json.readTree(text).path("error").asText(abbreviate(text));
        } catch (IOException e) {
            return abbreviate(text);
        }
    }

    private static TransferException refused(URI api, int status, String error) {
        return new TransferException(status, switch (status) {
            case 401 -> "the key was refused by " + api + " (" + error + "); check --auth, PETREL_AUTH or AUTH in ~/.wskprops";
            case 404 -> "not found: " + error;
            default -> error + " (HTTP " + status + ")";
        });
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
