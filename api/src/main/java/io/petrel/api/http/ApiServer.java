package io.petrel.api.http;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;
import io.petrel.store.DiskFullException;
import io.petrel.store.InvalidRequestException;
import io.petrel.store.NoQuorumException;
import io.petrel.store.RegionReadOnlyException;
import io.petrel.store.StoreException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The HTTP server of the API: listens where it is told (a zone's own address, and optionally a
 * shared address that several zones bind with SO_REUSEPORT), gives every request a transaction id,
 * answers CORS as OpenWhisk does, and turns failures into OpenWhisk error bodies.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final String CORS_METHODS = "GET, DELETE, POST, PUT, HEAD";
    private static final String CORS_HEADERS = "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent";

    /** An address to listen on; {@code reusePort} lets other processes bind the same one. */
    public record Listen(String host, int port, boolean reusePort) {
        public Listen {
            requireNonNull(host, "host");
        }
    }

    private final Server server;
    private final List<ServerConnector> connectors = new ArrayList<>();
    private final Router router;
    private static final int MAX_JSON_STRING = 80 * 1024 * 1024;
    /** An error's unread request body up to this size is read and dropped; a larger one closes the connection. */
    private static final long UNREAD_BODY_DRAINED = 1024 * 1024;
    private final ObjectMapper json;
    private final String zone;

    public ApiServer(String zone, List<Listen> listens, Router router, ObjectMapper json) {
        this.zone = requireNonNull(zone, "zone");
        this.router = requireNonNull(router, "router");
        // OpenWhisk accepts 48 MB of code (64 MB as base64) in one JSON string; Jackson's default stops at 20 MB.
        this.json = requireNonNull(json, "json").copy();
        this.json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_JSON_STRING).build());
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("petrel-api");
        // A blocking invocation holds its request for as long as the action runs (up to 60 s): on virtual
        // threads, a few hundred of them do not starve the zone's other requests of threads.
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);
        for (Listen l : listens) {
            HttpConnectionFactory http = new HttpConnectionFactory();
            http.getHttpConfiguration().setSendServerVersion(false);
            ServerConnector c = new ServerConnector(server, 1, 1, http);
            c.setHost(l.host());
            c.setPort(l.port());
            c.setReusePort(l.reusePort());
            c.setIdleTimeout(60_000);
            server.addConnector(c);
            connectors.add(c);
        }
        // Graceful: on stop, connectors close first and the requests in hand finish (within the stop timeout).
        server.setHandler(new org.eclipse.jetty.server.handler.GracefulHandler(new Dispatch()));
        server.setStopTimeout(5_000);
    }

    public void start() throws Exception {
        server.start();
    }

    /** The port of the {@code i}-th listen address (useful when it was 0). */
    public int port(int i) {
        return connectors.get(i).getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private final class Dispatch extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String given = request.getHeaders().get("X-Request-ID");
            String tid = given != null && REQUEST_ID.matcher(given).matches() ? given : newTransactionId();
            var headers = response.getHeaders();
            headers.put("Access-Control-Allow-Origin", "*");
            headers.put("Access-Control-Allow-Methods", CORS_METHODS);
            headers.put("Access-Control-Allow-Headers", CORS_HEADERS);
            headers.put("X-Request-ID", tid);
            headers.put("X-Petrel-Zone", zone);
            Exchange ex = new Exchange(request, response, callback, json, tid);
            // Web actions answer OPTIONS themselves (web-custom-options); every other path gets the CORS answer here.
            if (request.getMethod().equals("OPTIONS") && !Request.getPathInContext(request).startsWith("/api/v1/web/")) {
                ex.replyEmpty(200);
                return true;
            }
            try {
                router.route(ex);
                if (!ex.answered()) {
                    ex.error(404, ApiException.NOT_FOUND);
                }
            } catch (ApiException e) {
                answer(ex, e.status(), e.getMessage());
            } catch (NoQuorumException e) {
                answer(ex, 503, "The region cannot accept this request now: its store has no quorum (" + e.getMessage() + ").");
            } catch (RegionReadOnlyException e) {
                answer(ex, 503, "The region takes no writes now: " + e.getMessage() + ".");
            } catch (DiskFullException e) {
                answer(ex, 507, "The region's disk is full; the request was refused and nothing was changed (" + e.getMessage() + ").");
            } catch (InvalidRequestException e) {
                answer(ex, 413, "The request is too large to store: " + e.getMessage());
            } catch (StoreException e) {
                LOG.warn("zone {}: request {} {} ({}) failed in the store: {}", zone, request.getMethod(), ex.path(), tid, e.toString());
                answer(ex, 503, "The region's store could not complete the request: " + e.getMessage());
            } catch (Exception e) {
                LOG.error("zone {}: request {} {} ({}) failed", zone, request.getMethod(), ex.path(), tid, e);
                answer(ex, 500, "Internal error (transaction " + tid + ").");
            }
            return true;
        }

        private void answer(Exchange ex, int status, String message) throws Exception {
            if (ex.answered()) {
                // The reply had started (a stream): nothing better to do than to cut it.
                ex.callback().failed(new IllegalStateException(message));
                return;
            }
            if (status == 401) {
                ex.setHeader(HttpHeader.WWW_AUTHENTICATE.asString(), "Basic realm=\"whisk rest service\"");
            }
            ex.discardUnreadBody(UNREAD_BODY_DRAINED);
            ex.error(status, message);
        }
    }

    private static String newTransactionId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
