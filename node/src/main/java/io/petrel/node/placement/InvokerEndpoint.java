package io.petrel.node.placement;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.invoke.ActionRunner;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.invoke.RunResult;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * {@code POST /invoker/v1/run} on a zone's node port: another zone places an activation here. 503
 * at once when this zone's pool has no room; otherwise the answer is the run's result when it ends.
 * No thread waits for the action: the response completes from the run's future.
 */
public final class InvokerEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(InvokerEndpoint.class);
    private static final long MAX_BODY = 80L * 1024 * 1024;

    private final String zone;
    private final ActionRunner local;
    private final PlacementSecret secret;
    private final RunCodec codec;
    private final ObjectMapper json;

    InvokerEndpoint(String zone, ActionRunner local, PlacementSecret secret, ObjectMapper json) {
        this.zone = requireNonNull(zone, "zone");
        this.local = requireNonNull(local, "local");
        this.secret = requireNonNull(secret, "secret");
        this.json = requireNonNull(json, "json");
        this.codec = new RunCodec(json);
    }

    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!"POST".equals(request.getMethod()) || !RegionRunner.PATH.equals(Request.getPathInContext(request))) {
            return reply(response, callback, 404, Map.of("error", "no such resource"));
        }
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth == null || !auth.startsWith("Bearer ") || !secret.matches(auth.substring(7).trim())) {
            return reply(response, callback, 401, Map.of("error", "placed runs need the region's invoker credential"));
        }
        RunRequest run;
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] body = in.readNBytes((int) MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                return reply(response, callback, 413, Map.of("error", "placed run larger than " + MAX_BODY + " bytes"));
            }
            run = codec.request(json.readTree(body));
        } catch (Exception e) {
            return reply(response, callback, 400, Map.of("error", "not a placed run: " + e.getMessage()));
        }
        Optional<CompletableFuture<RunResult>> running = local.tryRun(run);
        if (running.isEmpty()) {
            return reply(response, callback, 503, Map.of("error", "zone " + zone + " has no room for the activation"));
        }
        LOG.debug("zone {}: runs activation {} placed by another zone", zone, run.activationId());
        running.get().whenComplete((result, error) -> {
            try {
                if (error != null) {
                    reply(response, callback, 500, Map.of("error", String.valueOf(error)));
                } else {
                    reply(response, callback, 200, codec.result(result));
                }
            } catch (Exception e) {
                callback.failed(e);
            }
        });
        return true;
    }

    private boolean reply(Response response, Callback callback, int status, Object body) throws Exception {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, json.writeValueAsString(body), callback);
        return true;
    }
}
