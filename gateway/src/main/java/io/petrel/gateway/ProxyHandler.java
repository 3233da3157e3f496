package io.petrel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The reverse proxy: sends each request to a zone the {@link ZonePicker} chooses and streams the
 * answer back, retrying on another zone only when that cannot apply a request twice (see
 * {@link RequestKind}): a request that never reached a zone always; a read always; an entity write
 * with the same {@code X-Request-ID} (set here when the client gave none); an invocation never once
 * it reached a zone: it fails with a 502 that names the zone.
 */
final class ProxyHandler extends Handler.Abstract {
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

    /** How one attempt on one zone ended before its answer was relayed. */
    private sealed interface Outcome {
        /** The zone answered; {@code listener} holds the body still to be streamed. */
        record Answered(org.eclipse.jetty.client.Response response, InputStreamResponseListener listener) implements Outcome {
        }

        /** The request did not (completely) reach the zone: no effect there is possible. */
        record NotReached(String why) implements Outcome {
        }

        /** The request reached the zone, which then failed or was cut off before answering. */
        record Lost(String why, boolean timedOut) implements Outcome {
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long started = System.nanoTime();
        String method = request.getMethod();
        String path = request.getHttpURI().getPath();
        RequestKind kind = RequestKind.of(method, path == null ? "/" : path);
        String given = request.getHeaders().get("X-Request-ID");
        String requestId = given != null && REQUEST_ID.matcher(given).matches() ? given : newRequestId();
        response.getHeaders().put("X-Request-ID", requestId);
        response.getHeaders().put("X-Petrel-Gateway", config.name());
        RequestBody body;
        try {
            body = RequestBody.read(request, config.proxy().replayableBodyBytes());
        } catch (IOException e) {
            callback.failed(e); // the client went away or sent less than it said: nobody to answer
            return true;
        }
        Set<ZoneState> tried = new HashSet<>();
        Map<String, String> failures = new LinkedHashMap<>();
        long deadline = started + config.proxy().retryBudget().toNanos();
        attempts:
        for (int attempt = 1; ; attempt++) {
            ZoneState zone = picker.pick(tried);
            if (tried.contains(zone) && !backOff(attempt, deadline)) {
                break;
            }
            tried.add(zone);
            AtomicBoolean committed = new AtomicBoolean();
            Outcome outcome = attempt(zone, request, kind, requestId, body, committed);
            boolean more = attempt < config.proxy().maxAttempts() && System.nanoTime() < deadline;
            switch (outcome) {
                case Outcome.Answered a -> {
                    int status = a.response().getStatus();
                    boolean zoneTrouble = status == 502 || status == 503 || status == 504;
                    if (zoneTrouble && more && kind != RequestKind.UNSAFE && body.replayable()) {
                        failures.put(zone.zone(), "answered " + status);
                        metrics.retry(kind, "status_" + status);
                        close(a.listener());
                        zone.end();
                        continue;
                    }
                    relay(zone, a, response, callback, kind, status, started);
                    return true;
                }
                case Outcome.NotReached n -> {
                    zone.end();
                    failures.put(zone.zone(), n.why());
                    if (!body.replayable() && committed.get()) {
                        fail(response, callback, 502, requestId, "The request body was being streamed to zone " + zone.zone()
                                + " when it failed (" + n.why() + "); a streamed body cannot be resent, so send the request again.", zone.zone());
                        return true;
                    }
                    if (!more) {
                        break attempts;
                    }
                    metrics.retry(kind, "not_reached");
                }
                case Outcome.Lost l -> {
                    zone.end();
                    failures.put(zone.zone(), l.why());
                    if (kind == RequestKind.UNSAFE) {
                        LOG.warn("gateway {}: {} {} ({}) lost in zone {}: {}; not retried", config.name(), method, path, requestId, zone.zone(), l.why());
                        fail(response, callback, l.timedOut() ? 504 : 502, requestId, "The request reached zone " + zone.zone()
                                + ", which was lost before it answered (" + l.why() + "). It was not retried on another zone because it may "
                                + "have run there; look for its activation before you send it again.", zone.zone());
                        return true;
                    }
                    if (!body.replayable()) {
                        fail(response, callback, 502, requestId, "Zone " + zone.zone() + " was lost while it received this request ("
                                + l.why() + "); a streamed body cannot be resent, so send the request again.", zone.zone());
                        return true;
                    }
                    if (!more) {
                        break attempts;
                    }
                    metrics.retry(kind, "lost");
                }
            }
        }
        fail(response, callback, 503, requestId, "No zone of region " + config.region() + " could take the request: " + describe(failures), null);
        return true;
    }

    private Outcome attempt(ZoneState zone, Request request, RequestKind kind, String requestId, RequestBody body, AtomicBoolean committed) {
        String pathQuery = request.getHttpURI().getPathQuery();
        org.eclipse.jetty.client.Request up = http.newRequest(zone.target().apiBase() + pathQuery)
                .method(request.getMethod())
                .idleTimeout((kind == RequestKind.UNSAFE ? config.proxy().invokeTimeout() : config.proxy().attemptTimeout()).toMillis(),
                        TimeUnit.MILLISECONDS)
                .headers(h -> copyRequestHeaders(request, requestId, h));
        org.eclipse.jetty.client.Request.Content content = body.content();
        if (content != null) {
            up.body(content);
        }
        AtomicBoolean sent = new AtomicBoolean();
        up.onRequestCommit(r -> committed.set(true));
        up.onRequestSuccess(r -> sent.set(true));
        InputStreamResponseListener listener = new InputStreamResponseListener();
        ZoneState.Abortable abort = kind == RequestKind.UNSAFE ? null : why -> up.abort(new ZoneLostException(why));
        zone.begin(abort);
        long wait = (kind == RequestKind.UNSAFE ? config.proxy().invokeTimeout() : config.proxy().attemptTimeout()).toMillis();
        try {
            up.send(listener);
            org.eclipse.jetty.client.Response r = listener.get(wait, TimeUnit.MILLISECONDS);
            int status = r.getStatus();
            if (status >= 500 && status != 503) {
                zone.requestFailed("answered " + status, false);
            } else {
                zone.requestSucceeded();
            }
            return new Outcome.Answered(r, listener);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            up.abort(e);
            return lostOrNotReached(zone, sent.get(), "interrupted", false);
        } catch (TimeoutException e) {
            up.abort(e);
            zone.requestFailed("no answer within " + wait + " ms", false);
            return lostOrNotReached(zone, sent.get(), "no answer within " + wait + " ms", true);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            boolean refused = HealthChecker.isRefused(cause);
            String why = cause instanceof ZoneLostException ? cause.getMessage() : HealthChecker.describe(cause);
            if (!(cause instanceof ZoneLostException)) {
                zone.requestFailed(why, refused);
            }
            return lostOrNotReached(zone, sent.get() && !refused, why, false);
        } finally {
            zone.answered(abort);
        }
    }

    private static Outcome lostOrNotReached(ZoneState zone, boolean sent, String why, boolean timedOut) {
        return sent ? new Outcome.Lost(why, timedOut) : new Outcome.NotReached(why);
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

    private void relay(ZoneState zone, Outcome.Answered a, Response response, Callback callback, RequestKind kind, int status, long started) {
        response.setStatus(status);
        HttpFields.Mutable out = response.getHeaders();
        for (HttpField f : a.response().getHeaders()) {
            String name = f.getLowerCaseName();
            if (name.equals("x-request-id")) {
                out.put(f);
            } else if (!HOP_BY_HOP.contains(name) || name.equals("content-length")) {
                out.add(f);
            }
        }
        out.put("X-Petrel-Zone", zone.zone());
        try (InputStream in = a.listener().getInputStream(); OutputStream os = Content.Sink.asOutputStream(response)) {
            in.transferTo(os);
        } catch (IOException e) {
            // The zone or the client went away mid-answer: the status is sent, so all that is left is to cut the answer.
            zone.end();
            metrics.request(zone.zone(), kind, 599, System.nanoTime() - started);
            callback.failed(e);
            return;
        }
        zone.end();
        metrics.request(zone.zone(), kind, status, System.nanoTime() - started);
        callback.succeeded();
    }

    private boolean backOff(int attempt, long deadline) {
        long sleep = Math.min(500, 50L << Math.min(attempt - 2, 4));
        if (System.nanoTime() + sleep * 1_000_000 >= deadline) {
            return false;
        }
        try {
            Thread.sleep(sleep);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void fail(Response response, Callback callback, int status, String requestId, String message, String zone) {
        try {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            if (zone != null) {
                response.getHeaders().put("X-Petrel-Zone", zone);
            }
            Map<String, String> body = new LinkedHashMap<>();
            body.put("error", message);
            body.put("code", requestId);
            Content.Sink.write(response, true, json.writeValueAsString(body), callback);
        } catch (IOException e) {
            callback.failed(e);
        }
    }

    private static String describe(Map<String, String> failures) {
        List<String> parts = new ArrayList<>();
        failures.forEach((zone, why) -> parts.add("zone " + zone + ": " + why));
        return parts.isEmpty() ? "no attempt was possible within the retry budget" : String.join("; ", parts);
    }

    private static void close(InputStreamResponseListener listener) {
        try {
            listener.close();
        } catch (IOException e) {
            // the connection is dropped with it; nothing else to release
        }
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
