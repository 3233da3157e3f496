package io.petrel.api.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * One HTTP request and its answer, with the few things every route needs: decoded path segments,
 * query parameters, a size-bounded body, and JSON or error replies in OpenWhisk's shape.
 */
public final class Exchange {
    private final Request request;
    private final Response response;
    private final Callback callback;
    private final ObjectMapper json;
    private final String transactionId;
    private final List<String> segments;
    private final Fields query;
    private boolean answered;

    Exchange(Request request, Response response, Callback callback, ObjectMapper json, String transactionId) {
        this.request = requireNonNull(request, "request");
        this.response = requireNonNull(response, "response");
        this.callback = requireNonNull(callback, "callback");
        this.json = requireNonNull(json, "json");
        this.transactionId = requireNonNull(transactionId, "transactionId");
        this.segments = split(Request.getPathInContext(request));
        this.query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
    }

    /** The path split at '/', each segment percent-decoded; a trailing slash gives a last empty segment. */
    static List<String> split(String path) {
        List<String> out = new ArrayList<>();
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.isEmpty()) {
            return out;
        }
        for (String s : p.split("/", -1)) {
            out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
        }
        return out;
    }

    public String method() {
        return request.getMethod();
    }

    public String path() {
        return Request.getPathInContext(request);
    }

    public List<String> segments() {
        return segments;
    }

    public String transactionId() {
        return transactionId;
    }

    /** The {@code X-Request-ID} the client (or the gateway) sent, if it is a valid one. */
    public Optional<String> clientRequestId() {
        return header("X-Request-ID").filter(id -> id.equals(transactionId));
    }

    public Optional<String> header(String name) {
        return Optional.ofNullable(request.getHeaders().get(name));
    }

    public Optional<String> param(String name) {
        return Optional.ofNullable(query.getValue(name));
    }

    public boolean flag(String name) {
        return param(name).map(v -> v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes") || v.isEmpty()).orElse(false);
    }

    /** A non-negative integer query parameter, or {@code fallback} when absent. */
    public int intParam(String name, int fallback) {
        Optional<String> v = param(name);
        if (v.isEmpty()) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.get().trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("The value '" + v.get() + "' of parameter '" + name + "' is not an integer.");
        }
    }

    public long longParam(String name, long fallback) {
        Optional<String> v = param(name);
        if (v.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(v.get().trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("The value '" + v.get() + "' of parameter '" + name + "' is not an integer.");
        }
    }

    public long contentLength() {
        return request.getLength();
    }

    public Optional<String> contentType() {
        return header(HttpHeader.CONTENT_TYPE.asString());
    }

    /** The body, refused with 413 as soon as it exceeds {@code maxBytes}. */
    public byte[] body(long maxBytes) throws IOException {
        long declared = request.getLength();
        if (declared > maxBytes) {
            throw new ApiException(413, "The request content was malformed: request entity of " + declared
                    + " bytes is larger than the allowed " + maxBytes + " bytes.");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(0, Math.min(declared, 1 << 20)));
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > maxBytes) {
                    throw new ApiException(413, "The request content was malformed: request entity is larger than the allowed "
                            + maxBytes + " bytes.");
                }
                out.write(buf, 0, n);
            }
        }
        return out.toByteArray();
    }

    /**
     * The body as a JSON object; an empty body is an empty object. Parsed straight from the stream,
     * so a large body (48 MB of action code) is not held twice.
     */
    public ObjectNode jsonObject(long maxBytes) throws IOException {
        long declared = request.getLength();
        if (declared > maxBytes) {
            throw new ApiException(413, "The request content was malformed: request entity of " + declared
                    + " bytes is larger than the allowed " + maxBytes + " bytes.");
        }
        JsonNode node;
        try (InputStream in = new BoundedInputStream(Content.Source.asInputStream(request), maxBytes)) {
            node = json.readTree(in);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("The request content was malformed:\n" + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode()) {
            return json.createObjectNode();
        }
        if (!node.isObject()) {
            throw ApiException.badRequest("The request content was malformed:\nexpected a JSON object, got " + node.getNodeType()
                    .toString().toLowerCase());
        }
        return (ObjectNode) node;
    }

    /** Refuses with 413 as soon as more than {@code max} bytes have been read. */
    private static final class BoundedInputStream extends java.io.FilterInputStream {
        private final long max;
        private long read;

        BoundedInputStream(InputStream in, long max) {
            super(in);
            this.max = max;
        }

        private int count(int n) {
            if (n > 0) {
                read += n;
                if (read > max) {
                    throw new ApiException(413, "The request content was malformed: request entity is larger than the allowed "
                            + max + " bytes.");
                }
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count(b < 0 ? -1 : 1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return count(super.read(b, off, len));
        }
    }

    /**
     * Before an answer that does not need the body (an early error, a replayed write): reads and drops
     * what is left of it up to {@code max} bytes, so the connection can carry the client's next request
     * and a client still sending gets the answer; beyond {@code max} the answer says
     * {@code Connection: close} instead. Without this a keep-alive client sends its next request on a
     * connection the server is about to drop.
     */
    public void discardUnreadBody(long max) {
        if (request.getLength() == 0 || answered) {
            return;
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            long left = max;
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf, 0, (int) Math.min(buf.length, left + 1))) > 0; ) {
                left -= n;
                if (left < 0) {
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
    }

    /** The body as a stream, for uploads too large to hold. */
    public InputStream bodyStream() {
        return Content.Source.asInputStream(request);
    }

    /**
     * Sends an interim answer (such as 102 Processing) while a long request works, so that a proxy in
     * front sees the connection alive; false if it could not be sent or the final answer has begun.
     */
    public boolean interim(int status) {
        if (answered) {
            return false;
        }
        try {
            response.writeInterim(status, HttpFields.EMPTY).get(5, java.util.concurrent.TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
            return false;
        }
    }

    public void setHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    public void reply(int status, Object body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        send(status, "application/json", bytes);
    }

    public void replyEmpty(int status) {
        answered = true;
        response.setStatus(status);
        response.write(true, null, callback);
    }

    public void send(int status, String contentType, byte[] bytes) {
        answered = true;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        if ("HEAD".equals(method())) {
            response.write(true, null, callback);
        } else {
            response.write(true, ByteBuffer.wrap(bytes), callback);
        }
    }

    /** Streams a body of known length; the stream is closed afterwards. */
    public void stream(int status, String contentType, long length, InputStream body) throws IOException {
        answered = true;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        try (body; OutputStream out = Content.Sink.asOutputStream(response)) {
            if (!"HEAD".equals(method())) {
                body.transferTo(out);
            }
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
            throw e;
        }
        callback.succeeded();
    }

    public void error(int status, String message) throws IOException {
        ObjectNode body = json.createObjectNode().put("error", message).put("code", transactionId);
        reply(status, body);
    }

    boolean answered() {
        return answered;
    }

    Callback callback() {
        return callback;
    }

    /** Every request header, as received (web actions pass them on as {@code __ow_headers}). */
    public HttpFields requestHeaders() {
        return request.getHeaders();
    }

    /** The query string as received, without the {@code ?}; empty when there is none. */
    public String rawQuery() {
        String q = request.getHttpURI().getQuery();
        return q == null ? "" : q;
    }

    /** The answer's headers, for what {@link #setHeader} cannot say: repeated headers, headers to remove. */
    public HttpFields.Mutable responseHeaders() {
        return response.getHeaders();
    }

    Response response() {
        return response;
    }

    Request request() {
        return request;
    }

    public ObjectMapper json() {
        return json;
    }
}
