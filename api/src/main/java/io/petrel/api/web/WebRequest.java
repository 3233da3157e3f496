package io.petrel.api.web;

import io.petrel.api.ApiException;
import io.petrel.api.http.Exchange;
import org.eclipse.jetty.http.HttpField;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * What a web action sees of its HTTP request.
 *
 * @param method       the HTTP method, as sent (upper case)
 * @param headers      every header, names in lower case; a repeated header's values joined with {@code ", "}
 * @param rawQuery     the query string as sent (still percent-encoded), empty when there is none
 * @param query        the query parameters, decoded; a repeated name keeps its first value
 * @param contentType  the request's {@code Content-Type}
 * @param body         the request body, at most the payload limit
 */
record WebRequest(String method, Map<String, String> headers, String rawQuery, Map<String, String> query,
                  Optional<String> contentType, byte[] body) {
    WebRequest {
        requireNonNull(method, "method");
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        requireNonNull(rawQuery, "rawQuery");
        query = Collections.unmodifiableMap(new LinkedHashMap<>(query));
        requireNonNull(contentType, "contentType");
        requireNonNull(body, "body");
    }

    /** The same request without one header ({@code name} in lower case). */
    WebRequest withoutHeader(String name) {
        Map<String, String> fewer = new LinkedHashMap<>(headers);
        fewer.remove(name);
        return new WebRequest(method, fewer, rawQuery, query, contentType, body);
    }

    /** Reads the request; a body over {@code maxBody} bytes is refused with 413 while it arrives. */
    static WebRequest read(Exchange ex, long maxBody) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        for (HttpField f : ex.requestHeaders()) {
            headers.merge(f.getName().toLowerCase(Locale.ROOT), f.getValue() == null ? "" : f.getValue(), (a, b) -> a + ", " + b);
        }
        String rawQuery = ex.rawQuery();
        return new WebRequest(ex.method(), headers, rawQuery, decodeForm(rawQuery), ex.contentType(), ex.body(maxBody));
    }

    /** {@code a=1&b=x+y} as a map, the way query strings and form bodies are encoded; 400 when it cannot be decoded. */
    static Map<String, String> decodeForm(String encoded) {
        Map<String, String> out = new LinkedHashMap<>();
        if (encoded.isEmpty()) {
            return out;
        }
        try {
            for (String pair : encoded.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.putIfAbsent(name, value);
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("The request's query or form data is not valid URL encoding: " + e.getMessage());
        }
        return out;
    }
}
