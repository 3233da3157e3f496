package io.petrel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The reverse proxy: sends each request to a zone the {@link ZonePicker} chooses and streams the
 * answer back, retrying on another zone only when that cannot apply a request twice (see
 * {@link RequestKind}): a request that never reached a zone always; a read always; an entity write
 * with the same {@code X-Request-ID} (set here when the client gave none); an invocation never once
 * it reached a zone: it fails with a 502 that names the zone.
 *
 * <p>Nothing here blocks a thread: the zone's answer is written to the client chunk by chunk as the
 * zone's connection delivers it, and a retry is decided in the callbacks of the attempt before it.
 * A thread that waited for each answer cost two wake-ups per request, which on two cores was most
 * of the gateway's CPU.
 */
final class ProxyHandler extends Handler.Abstract.NonBlocking {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyHandler.class);
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    /** Headers of one hop only (RFC 9110 7.6.1), plus those the proxy sets itself. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect", "content-length", "x-request-id");

    private final GatewayConfig config;
    private final ZonePicker picker;
    private final HttpClient http;
    private final GatewayMetrics metrics;
    private final ObjectMapper json;

    ProxyHandler(GatewayConfig config, ZonePicker picker, HttpClient http, GatewayMetrics metrics, ObjectMapper json) {
        this.config = requireNonNull(config, "config");
        this.picker = requireNonNull(picker, "picker");
        this.http = requireNonNull(http, "http");
        this.metrics = requireNonNull(metrics, "metrics");
        this.json = requireNonNull(json, "json");
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getPath();
        RequestKind kind = RequestKind.of(request.getMethod(), path == null ? "/" : path);
        String given = request.getHeaders().get("X-Request-ID");
        String requestId = given != null && REQUEST_ID.matcher(given).matches() ? given : newRequestId();
        response.getHeaders().put("X-Request-ID", requestId);
        response.getHeaders().put("X-Petrel-Gateway", config.name());
        Exchange exchange = new Exchange(request, response, callback, kind, requestId);
        long length = request.getLength();
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        boolean chunked = length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        if (length == 0 || (length < 0 && !chunked)) {
            exchange.start(new RequestBody.None());
        } else if (chunked || length > config.proxy().replayableBodyBytes()) {
            exchange.start(new RequestBody.Streamed(type, request));
        } else {
            Content.Source.asByteArrayAsync(request, (int) length).whenComplete((bytes, failure) -> {
                if (failure != null) {
                    callback.failed(failure); // the client went away or sent less than it said: nobody to answer
                } else if (bytes.length < length) {
                    callback.failed(new IOException("the client sent " + bytes.length + " of the " + length + " bytes it announced"));
                } else {
                    exchange.start(new RequestBody.Buffered(type, bytes));
                }
            });
        }
        return true;
    }

    /** One client request, through its attempts on zones until one answer is relayed or the request fails. */
    private final class Exchange {
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final RequestKind kind;
        private final String requestId;
        private final long started = System.nanoTime();
        private final long deadline;
        private final Set<ZoneState> tried = new HashSet<>();
        private final Map<String, String> failures = new LinkedHashMap<>();
        private RequestBody body;
        private int attempts;

        Exchange(Request request, Response response, Callback callback, RequestKind kind, String requestId) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.kind = kind;
            this.requestId = requestId;
            this.deadline = started + config.proxy().retryBudget().toNanos();
        }

        void start(RequestBody body) {
            this.body = body;
            next();
        }

        /** Sends the next attempt: at once to a zone not tried yet, after a back-off to one tried before. */
        void next() {
            ZoneState zone = picker.pick(tried);
            if (!tried.contains(zone)) {
                send(zone);
                return;
            }
            long sleep = Math.min(500, 50L << Math.min(attempts - 1, 4));
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(sleep) >= deadline) {
                giveUp();
                return;
            }
            http.getScheduler().schedule(() -> send(zone), sleep, TimeUnit.MILLISECONDS);
        }

        private boolean more() {
            return attempts < config.proxy().maxAttempts() && System.nanoTime() < deadline;
        }

        private void send(ZoneState zone) {
            tried.add(zone);
            attempts++;
            new Attempt(this, zone).send();
        }

        /** The attempt on {@code zone} ended without an answer to relay. */
        void failed(ZoneState zone, String why, boolean reached, boolean committed, boolean timedOut) {
            zone.end();
            failures.put(zone.zone(), why);
            if (!reached) {
                if (!body.replayable() && committed) {
                    fail(502, "The request body was being streamed to zone " + zone.zone() + " when it failed (" + why
                            + "); a streamed body cannot be resent, so send the request again.", zone.zone());
                } else if (more()) {
                    metrics.retry(kind, "not_reached");
                    next();
                } else {
                    giveUp();
                }
                return;
            }
            if (kind == RequestKind.UNSAFE) {
                LOG.warn("gateway {}: {} {} ({}) lost in zone {}: {}; not retried", config.name(), request.getMethod(),
                        request.getHttpURI().getPath(), requestId, zone.zone(), why);
                fail(timedOut ? 504 : 502, "The request reached zone " + zone.zone() + ", which was lost before it answered (" + why
                        + "). It was not retried on another zone because it may have run there; look for its activation before you "
                        + "send it again.", zone.zone());
            } else if (!body.replayable()) {
                fail(502, "Zone " + zone.zone() + " was lost while it received this request (" + why
                        + "); a streamed body cannot be resent, so send the request again.", zone.zone());
            } else if (more()) {
                metrics.retry(kind, "lost");
                next();
            } else {
                giveUp();
            }
        }

        /** The zone answered with {@code status}: whether to try another zone instead of relaying the answer. */
        boolean retryAnswer(ZoneState zone, int status) {
            boolean zoneTrouble = status == 502 || status == 503 || status == 504;
            if (zoneTrouble && kind != RequestKind.UNSAFE && body.replayable() && more()) {
                failures.put(zone.zone(), "answered " + status);
                metrics.retry(kind, "status_" + status);
                return true;
            }
            return false;
        }

        void relayed(ZoneState zone, int status, Throwable failure) {
            if (failure != null && !response.isCommitted()) {
                // The zone's answer broke before any of it reached the client: that is an attempt that
                // failed, to retry or to answer with a message, not a bodiless 500 from the server.
                response.reset();
                response.getHeaders().put("X-Request-ID", requestId);
                response.getHeaders().put("X-Petrel-Gateway", config.name());
                String why = failure instanceof ZoneLostException ? failure.getMessage()
                        : "its answer (" + status + ") broke off: " + HealthChecker.describe(failure);
                if (!(failure instanceof ZoneLostException)) {
                    zone.requestFailed(why, false);
                }
                // Not from inside the broken answer's callback (the content source of a connection that is
                // failing): a retry sent from there sometimes waited out its whole attempt timeout.
                http.getExecutor().execute(() -> failed(zone, why, true, true, false));
                return;
            }
            zone.end();
            metrics.request(zone.zone(), kind, failure == null ? status : 599, System.nanoTime() - started);
            if (failure == null) {
                callback.succeeded();
            } else {
                // The zone or the client went away mid-answer: the status is sent, so all that is left is to cut the answer.
                callback.failed(failure);
            }
        }

        private void giveUp() {
            fail(503, "No zone of region " + config.region() + " could take the request: " + describe(failures), null);
        }

        private void fail(int status, String message, String zone) {
            try {
                response.setStatus(status);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                if (zone != null) {
                    response.getHeaders().put("X-Petrel-Zone", zone);
                }
                Map<String, String> out = new LinkedHashMap<>();
                out.put("error", message);
                out.put("code", requestId);
                Content.Sink.write(response, true, json.writeValueAsString(out), callback);
            } catch (IOException | RuntimeException e) {
                callback.failed(e);
            }
        }
    }

    /** One attempt on one zone: sends the request, then either relays the answer or hands the failure back. */
    private final class Attempt implements ZoneState.Abortable {
        private final Exchange exchange;
        private final ZoneState zone;
        private final org.eclipse.jetty.client.Request up;
        /** A connection was had and the request began to go out on it (the first of the request events). */
        private final AtomicBoolean begun = new AtomicBoolean();
        private final AtomicBoolean committed = new AtomicBoolean();
        private final AtomicBoolean sent = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();
        private volatile boolean relaying;
        private volatile boolean retrying;
        private volatile boolean bodyDone;
        private volatile boolean upstreamDone;
        private volatile int status;
        /** Whether the answer's content source arrived and is being copied (an answer without content brings none). */
        private final AtomicBoolean pumping = new AtomicBoolean();
        private final long wait;

        Attempt(Exchange exchange, ZoneState zone) {
            this.exchange = exchange;
            this.zone = zone;
            this.wait = (exchange.kind == RequestKind.UNSAFE ? config.proxy().invokeTimeout() : config.proxy().attemptTimeout()).toMillis();
            Request request = exchange.request;
            this.up = http.newRequest(zone.target().apiBase() + request.getHttpURI().getPathQuery())
                    .method(request.getMethod())
                    .idleTimeout(wait, TimeUnit.MILLISECONDS)
                    .headers(h -> copyRequestHeaders(request, exchange.requestId, h));
            org.eclipse.jetty.client.Request.Content content = exchange.body.content();
            if (content != null) {
                up.body(content);
            }
        }

        void send() {
            up.onRequestBegin(r -> begun.set(true));
            up.onRequestCommit(r -> committed.set(true));
            up.onRequestSuccess(r -> sent.set(true));
            up.onResponseHeaders(this::onHeaders);
            up.onResponseContentSource(this::onContentSource);
            zone.begin(exchange.kind == RequestKind.UNSAFE ? null : this);
            up.send(this::onComplete);
        }

        @Override
        public void abort(String reason) {
            up.abort(new ZoneLostException(reason));
        }

        private void onHeaders(org.eclipse.jetty.client.Response r) {
            zone.answered(this);
            status = r.getStatus();
            if (status >= 500 && status != 503) {
                zone.requestFailed("answered " + status, false);
            } else {
                zone.requestSucceeded();
            }
            if (exchange.retryAnswer(zone, status)) {
                retrying = true;
                r.abort(new ZoneLostException("answered " + status + "; trying another zone"));
                return;
            }
            relaying = true;
            Response response = exchange.response;
            response.setStatus(status);
            HttpFields.Mutable out = response.getHeaders();
            for (HttpField f : r.getHeaders()) {
                String name = f.getLowerCaseName();
                if (name.equals("x-request-id")) {
                    out.put(f);
                } else if (!HOP_BY_HOP.contains(name) || name.equals("content-length")) {
                    out.add(f);
                }
            }
            out.put("X-Petrel-Zone", zone.zone());
        }

        private void onContentSource(org.eclipse.jetty.client.Response r, Content.Source source) {
            if (!relaying) {
                return;
            }
            new Pump(source, r).run();
        }

        private void onComplete(Result result) {
            zone.answered(this);
            if (relaying) {
                if (result.isFailed()) {
                    finish(result.getFailure());
                } else {
                    upstreamDone = true;
                    if (bodyDone) {
                        finish(null);
                    } else if (!pumping.get()) {
                        // An answer without content (204, HEAD, Content-Length: 0) brings no content source.
                        exchange.response.write(true, BufferUtil.EMPTY_BUFFER, Callback.from(() -> {
                            bodyDone = true;
                            finish(null);
                        }, this::finish));
                    }
                }
                return;
            }
            if (retrying) {
                zone.end();
                exchange.next();
                return;
            }
            Throwable cause = result.getFailure();
            boolean refused = HealthChecker.isRefused(cause);
            boolean timedOut = HealthChecker.isTimeout(cause);
            String why = cause instanceof ZoneLostException ? cause.getMessage()
                    : timedOut ? "no answer within " + wait + " ms" : HealthChecker.describe(cause);
            if (!(cause instanceof ZoneLostException)) {
                zone.requestFailed(why, refused);
            }
            // A request that began to go out on a connection may have reached the zone whole even when its
            // commit and success events never came: the zone read it and cut the connection while the send was
            // completing, and the client failed the exchange first. Counting only fully sent requests as reached
            // retried, now and then, an invocation that had reached its zone (GatewayProxyTest).
            exchange.failed(zone, why, (begun.get() || committed.get() || sent.get()) && !refused, committed.get(), timedOut);
        }

        private void finish(Throwable failure) {
            if (finished.compareAndSet(false, true)) {
                exchange.relayed(zone, status, failure);
            }
        }

        /** Copies the zone's answer to the client, one chunk at a time, reading the next only once the last is written. */
        private final class Pump implements Runnable {
            private final Content.Source source;
            private final org.eclipse.jetty.client.Response upstream;

            Pump(Content.Source source, org.eclipse.jetty.client.Response upstream) {
                this.source = source;
                this.upstream = upstream;
                pumping.set(true);
            }

            @Override
            public void run() {
                while (true) {
                    Content.Chunk chunk = source.read();
                    if (chunk == null) {
                        source.demand(this);
                        return;
                    }
                    if (Content.Chunk.isFailure(chunk)) {
                        finish(chunk.getFailure());
                        return;
                    }
                    boolean last = chunk.isLast();
                    // 0: writing, 1: write() returned first (the callback must go on), 2: the callback ran inside write().
                    AtomicInteger state = new AtomicInteger();
                    exchange.response.write(last, chunk.getByteBuffer(), Callback.from(() -> {
                        chunk.release();
                        if (last) {
                            bodyDone = true;
                            if (upstreamDone) {
                                finish(null);
                            }
                        } else if (!state.compareAndSet(0, 2)) {
                            run();
                        }
                    }, x -> {
                        chunk.release();
                        upstream.abort(x);
                        finish(x);
                    }));
                    if (last || state.compareAndSet(0, 1)) {
                        return;
                    }
                }
            }
        }
    }

    private void copyRequestHeaders(Request request, String requestId, HttpFields.Mutable h) {
        for (HttpField f : request.getHeaders()) {
            if (!HOP_BY_HOP.contains(f.getLowerCaseName())) {
                h.add(f);
            }
        }
        h.put("X-Request-ID", requestId);
        h.add("X-Forwarded-For", Request.getRemoteAddr(request));
        h.put("X-Forwarded-Proto", request.getHttpURI().getScheme() == null ? "http" : request.getHttpURI().getScheme());
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (host != null) {
            h.put("X-Forwarded-Host", host);
        }
    }

    private static String describe(Map<String, String> failures) {
        List<String> parts = new ArrayList<>();
        failures.forEach((zone, why) -> parts.add("zone " + zone + ": " + why));
        return parts.isEmpty() ? "no attempt was possible within the retry budget" : String.join("; ", parts);
    }

    private static String newRequestId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Why the gateway cut an attempt: its zone was found down or ejected while the attempt waited. */
    static final class ZoneLostException extends IOException {
        ZoneLostException(String message) {
            super(message);
        }
    }
}
