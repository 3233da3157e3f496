package io.petrel.api.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.invoke.Invocations;
import io.petrel.api.invoke.Target;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The parameters a web action gets: its own (package &lt; binding &lt; action, {@code final} enforced),
 * then the request's query parameters, then a JSON object or form body, and the HTTP context as
 * {@code __ow_method}, {@code __ow_headers}, {@code __ow_path}, {@code __ow_user} (authenticated
 * callers only), {@code __ow_body} and {@code __ow_query}.
 */
final class ActionInput {
    static final String PREFIX = "__ow_";
    static final String METHOD = "__ow_method";
    static final String HEADERS = "__ow_headers";
    static final String PATH = "__ow_path";
    static final String USER = "__ow_user";
    static final String BODY = "__ow_body";
    static final String QUERY = "__ow_query";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ActionInput() {
    }

    /**
     * @param user  the authenticated caller's namespace, when the action requires authentication
     * @throws ApiException 400 when the request sets an {@code __ow_} parameter, overrides a parameter
     *                      of a {@code final} action, or sends a JSON body that does not parse
     */
    static ObjectNode build(Target target, WebRequest request, String extraPath, Optional<String> user, ObjectMapper json) {
        boolean raw = target.annotation("raw-http", false);
        ObjectNode fromRequest = NODES.objectNode();
        JsonNode opaqueBody = null;
        if (!raw) {
            request.query().forEach(fromRequest::put);
            Body b = body(request, json);
            b.fields().ifPresent(fromRequest::setAll);
            opaqueBody = b.opaque().orElse(null);
            for (Map.Entry<String, JsonNode> e : fromRequest.properties()) {
                if (e.getKey().startsWith(PREFIX)) {
                    throw ApiException.badRequest("Request defines parameters that are not allowed (e.g., reserved properties): '"
                            + e.getKey() + "' is set by the platform, not by the request.");
                }
            }
        }
        ObjectNode params = Invocations.mergeParameters(target, fromRequest);
        params.put(METHOD, request.method().toLowerCase(Locale.ROOT));
        ObjectNode headers = params.putObject(HEADERS);
        request.headers().forEach(headers::put);
        params.put(PATH, extraPath);
        user.ifPresent(u -> params.put(USER, u));
        if (raw) {
            params.put(QUERY, request.rawQuery());
            params.put(BODY, rawBody(request));
        } else if (opaqueBody != null) {
            params.set(BODY, opaqueBody);
        }
        return params;
    }

    /** A body is either fields to merge (a JSON object, form data) or one opaque value for {@code __ow_body}. */
    private record Body(Optional<ObjectNode> fields, Optional<JsonNode> opaque) {
    }

    private static Body body(WebRequest request, ObjectMapper json) {
        if (request.body().length == 0) {
            return new Body(Optional.empty(), Optional.empty());
        }
        String type = request.contentType().flatMap(MediaTypes::base).orElse(MediaTypes.OCTETS);
        if (MediaTypes.isJsonFamily(type)) {
            JsonNode node;
            try {
                node = json.readTree(request.body());
            } catch (JsonProcessingException e) {
                throw ApiException.badRequest("The request content was malformed:\n" + e.getOriginalMessage());
            } catch (java.io.IOException e) {
                throw ApiException.badRequest("The request content was malformed: " + e.getMessage());
            }
            if (node == null || node.isMissingNode()) {
                return new Body(Optional.empty(), Optional.empty());
            }
            // A JSON value that is not an object has no names to merge; the action gets it as it is.
            return node.isObject() ? new Body(Optional.of((ObjectNode) node), Optional.empty()) : new Body(Optional.empty(), Optional.of(node));
        }
        if (type.equals(MediaTypes.FORM)) {
            ObjectNode fields = NODES.objectNode();
            WebRequest.decodeForm(new String(request.body(), StandardCharsets.UTF_8)).forEach(fields::put);
            return new Body(Optional.of(fields), Optional.empty());
        }
        return new Body(Optional.empty(), Optional.of(NODES.textNode(opaque(request.body(), type))));
    }

    /**
     * {@code __ow_body} of a raw-http action: the body as sent. Besides binary types, an
     * {@code application/json} body is base64 too: OpenWhisk has always done so for raw actions, and
     * actions written for it decode it.
     */
    private static String rawBody(WebRequest request) {
        if (request.body().length == 0) {
            return "";
        }
        String type = request.contentType().flatMap(MediaTypes::base).orElse(MediaTypes.OCTETS);
        if (type.equals("application/json")) {
            return Base64.getEncoder().encodeToString(request.body());
        }
        return opaque(request.body(), type);
    }

    private static String opaque(byte[] body, String type) {
        return MediaTypes.isBinary(type) ? Base64.getEncoder().encodeToString(body) : new String(body, StandardCharsets.UTF_8);
    }
}
