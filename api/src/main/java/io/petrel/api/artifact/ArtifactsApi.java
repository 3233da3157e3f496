package io.petrel.api.artifact;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.api.ApiException;
import io.petrel.api.entity.Call;
import io.petrel.api.entity.EntityName;
import io.petrel.api.http.Exchange;
import io.petrel.api.namespace.NamespaceRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * {@code /namespaces/{ns}/artifacts[/{name}]}, Petrel's extension for model and training data: any
 * bytes, streamed in and out, with their SHA-256 and size; names may have folders
 * ({@code models/resnet/v1.bin}), every part a valid entity name.
 */
public final class ArtifactsApi {
    private static final Logger LOG = LoggerFactory.getLogger(ArtifactsApi.class);
    private static final int DEFAULT_LIMIT = 30;
    private static final int MAX_LIMIT = 1000;
    private static final int MAX_NAME_CHARS = 512;

    private final ArtifactStore artifacts;
    private final NamespaceRegistry namespaces;

    public ArtifactsApi(ArtifactStore artifacts, NamespaceRegistry namespaces) {
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.namespaces = requireNonNull(namespaces, "namespaces");
    }

    public void handle(Call call, List<String> rest) throws Exception {
        Exchange ex = call.exchange();
        // Artifacts are private to their namespace; an action reads them with its namespace's key.
        call.requireOwn();
        String ns = call.namespace();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            if (!ex.method().equals("GET")) {
                throw new ApiException(405, "HTTP method not allowed, supported methods: GET");
            }
            list(ex, ns);
            return;
        }
        String name = name(rest);
        switch (ex.method()) {
            case "GET", "HEAD" -> {
                ArtifactStore.Artifact a = artifacts.get(ns, name).orElseThrow(ApiException::notFound);
                ex.setHeader("ETag", "\"" + a.blob().sha256() + "\"");
                ex.setHeader("X-Petrel-Sha256", a.blob().sha256());
                ex.stream(200, a.meta().path("contentType").asText("application/octet-stream"), a.size(), artifacts.open(a));
            }
            case "PUT" -> {
                long quota = namespaces.limits(ns).path("artifactQuotaBytes").asLong();
                String type = ex.contentType().filter(t -> !t.isBlank()).orElse("application/octet-stream");
                ArtifactStore.Artifact a = artifacts.put(ns, name, type, ex.bodyStream(), ex.contentLength(), ex.flag("overwrite"), quota,
                        call::answerOps);
                LOG.info("artifact {}/{} stored: {} bytes, sha256 {}", ns, name, a.size(), a.blob().sha256());
                ex.reply(200, a.view());
            }
            case "DELETE" -> {
                ArtifactStore.Artifact a = artifacts.delete(ns, name).orElseThrow(ApiException::notFound);
                ex.reply(200, a.view());
            }
            default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, HEAD, PUT, DELETE");
        }
    }

    private void list(Exchange ex, String ns) throws Exception {
        int limit = ex.intParam("limit", DEFAULT_LIMIT);
        if (limit < 0 || limit > MAX_LIMIT) {
            throw ApiException.badRequest("The value '" + limit + "' is not in the range of 0 to " + MAX_LIMIT + " for artifacts.");
        }
        int skip = ex.intParam("skip", 0);
        if (skip < 0) {
            throw ApiException.badRequest("The value '" + skip + "' is not in the range of 0 to " + Integer.MAX_VALUE + " for skip.");
        }
        String prefix = ex.param("prefix").orElse("");
        if (prefix.length() > MAX_NAME_CHARS) {
            throw ApiException.badRequest("The prefix is longer than " + MAX_NAME_CHARS + " characters.");
        }
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        artifacts.list(ns, prefix, skip, limit == 0 ? MAX_LIMIT : limit).forEach(a -> out.add(a.view()));
        ex.reply(200, out);
    }

    private static String name(List<String> parts) {
        for (String part : parts) {
            EntityName.require(part);
        }
        String name = String.join("/", parts);
        if (name.length() > MAX_NAME_CHARS) {
            throw ApiException.badRequest("The artifact name is longer than " + MAX_NAME_CHARS + " characters.");
        }
        return name;
    }
}
