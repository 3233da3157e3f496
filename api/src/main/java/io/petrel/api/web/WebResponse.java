package io.petrel.api.web;

import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The HTTP answer a web action's result makes.
 *
 * @param headers      headers the action set, in order; a name may repeat ({@code Set-Cookie})
 * @param contentType  the body's media type; empty when there is no body
 * @param body         the bytes; empty for a 204 or an action that sent none
 */
record WebResponse(int status, List<Header> headers, Optional<String> contentType, byte[] body) {
    WebResponse {
        headers = List.copyOf(headers);
        requireNonNull(contentType, "contentType");
        requireNonNull(body, "body");
    }

    record Header(String name, String value) {
        Header {
            requireNonNull(name, "name");
            requireNonNull(value, "value");
        }
    }

    static WebResponse of(String contentType, byte[] body) {
        return new WebResponse(200, List.of(), Optional.of(contentType), body);
    }
}
