package io.petrel.gateway;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real HTTP server standing where a zone's API would, scripted to do what real zones do only by
 * accident and at random moments (answer 503, cut the connection after reading a request), so that
 * each of the proxy's rules can be tested exactly. The gateway's tests against real zones, as OS
 * processes, are in the cli module's fault tests.
 */
final class ScriptedZone implements AutoCloseable {
    enum Mode { SERVE, ANSWER_503, ANSWER_500, CUT_AFTER_READING, CUT_AFTER_HEADERS, HOLD }

    private final String name;
    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server, 1, 1);
    volatile Mode mode = Mode.SERVE;
    volatile boolean ready = true;
    /** The body of {@code /admin/v1/dr}, as a zone with DR serves it; null: the path is not served (404), as on a zone without it. */
    volatile String dr;
    final List<String> requestIds = new CopyOnWriteArrayList<>();
    /** In {@link Mode#HOLD}, requests wait here before they are served. */
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    /** In {@link Mode#HOLD}, counts the requests that arrived and wait. */
    final java.util.concurrent.Semaphore held = new java.util.concurrent.Semaphore(0);

    ScriptedZone(String name) throws Exception {
        this.name = name;
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return ScriptedZone.this.handle(request, response, callback);
            }
        });
        server.start();
    }

    private boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        if (path.equals("/health/ready")) {
            response.setStatus(ready ? 200 : 503);
            Content.Sink.write(response, true, ready ? "{\"ready\":true}" : "{\"ready\":false,\"reason\":\"draining\"}", callback);
            return true;
        }
        if (path.equals("/admin/v1/dr")) {
            String body = dr;
            response.setStatus(body != null ? 200 : 404);
            response.getHeaders().put("Content-Type", "application/json");
            Content.Sink.write(response, true, body != null ? body : "{\"error\":\"no such resource\"}", callback);
            return true;
        }
        requestIds.add(String.valueOf(request.getHeaders().get("X-Request-ID")));
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readAllBytes();
        }
        switch (mode) {
            case CUT_AFTER_READING -> {
                request.getConnectionMetaData().getConnection().getEndPoint().close();
                callback.failed(new java.io.IOException("cut"));
                return true;
            }
            case CUT_AFTER_HEADERS -> {
                // The status line and headers leave, announcing content that never comes.
                response.setStatus(200);
                response.getHeaders().put("Content-Length", 100);
                response.write(false, java.nio.ByteBuffer.allocate(0), Callback.from(() -> {
                    request.getConnectionMetaData().getConnection().getEndPoint().close();
                    callback.failed(new java.io.IOException("cut"));
                }, callback::failed));
                return true;
            }
            case HOLD -> {
                held.release();
                release.await();
            }
            case ANSWER_503, ANSWER_500 -> {
                response.setStatus(mode == Mode.ANSWER_503 ? 503 : 500);
                Content.Sink.write(response, true, "{\"error\":\"scripted\"}", callback);
                return true;
            }
            default -> {
            }
        }
        response.setStatus(200);
        response.getHeaders().put("X-Echo-Method", request.getMethod());
        response.getHeaders().put("X-Echo-Custom", String.valueOf(request.getHeaders().get("X-Custom")));
        response.getHeaders().put("X-Petrel-Zone", name);
        response.getHeaders().add("Set-Cookie", "a=1");
        response.getHeaders().add("Set-Cookie", "b=2");
        response.getHeaders().put("Content-Length", body.length);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(body);
        }
        callback.succeeded();
        return true;
    }

    int port() {
        return connector.getLocalPort();
    }

    String name() {
        return name;
    }

    ZoneTarget target() {
        return new ZoneTarget(name, new HostPort("127.0.0.1", port()), new HostPort("127.0.0.1", port()));
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
