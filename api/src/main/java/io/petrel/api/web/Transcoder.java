package io.petrel.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns an activation's result into the answer its URL's extension asks for. A result that cannot be
 * served that way is the action's fault, answered 400 with what was wrong, so that its developer
 * can tell from the answer alone.
 */
final class Transcoder {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    // Jetty computes these from the body it sends; an action's value would contradict it.
    private static final Set<String> COMPUTED = Set.of("content-length", "transfer-encoding");

    private Transcoder() {
    }

    /**
     * The answer of a successful activation.
     *
     * @param projection the extra path, followed into the result for every extension but {@code .http}
     */
    static WebResponse success(Extension extension, JsonNode result, List<String> projection, ObjectMapper json) {
        if (extension == Extension.HTTP) {
            return http(result);
        }
        JsonNode value = project(result, projection);
        return switch (extension) {
            case JSON -> {
                if (!value.isObject() && !value.isArray()) {
                    throw invalid("application/json", "the result" + at(projection) + " is " + describe(value)
                            + ", not a JSON object or array");
                }
                yield WebResponse.of(extension.contentType(), bytes(value));
            }
            case HTML, SVG -> {
                JsonNode served = served(value, projection, extension);
                if (served == null || !served.isTextual()) {
                    throw invalid(base(extension), served == null
                            ? "the result" + at(projection) + " has no string field '" + extension.field() + "' (or 'body')"
                            : "the result" + at(projection) + " is " + describe(served) + ", not a string");
                }
                yield WebResponse.of(extension.contentType(), served.asText().getBytes(StandardCharsets.UTF_8));
            }
            case TEXT -> {
                JsonNode served = served(value, projection, extension);
                if (served == null) {
                    throw invalid(base(extension), "the result" + at(projection) + " has no field 'text' (or 'body')");
                }
                String text = served.isTextual() ? served.asText() : served.isContainerNode() ? pretty(served, json) : served.toString();
                yield WebResponse.of(extension.contentType(), text.getBytes(StandardCharsets.UTF_8));
            }
            case HTTP -> throw new IllegalStateException("handled above");
        };
    }

    /**
     * Without a projection, an object result serves its {@code body} field (as OpenWhisk does for
     * every extension), else the extension's own ({@code html}, {@code svg}, {@code text}): {@code
     * hello.html} is {@code hello.html/html}. A projection names the value to serve itself.
     */
    private static JsonNode served(JsonNode value, List<String> projection, Extension extension) {
        return projection.isEmpty() && value.isObject() ? field(value, extension) : value;
    }

    /** {@code body}, as OpenWhisk serves it for every extension, else the extension's own field. */
    private static JsonNode field(JsonNode object, Extension extension) {
        JsonNode body = object.get("body");
        return body != null ? body : object.get(extension.field());
    }

    private static String base(Extension e) {
        int semicolon = e.contentType().indexOf(';');
        return semicolon < 0 ? e.contentType() : e.contentType().substring(0, semicolon);
    }

    /** Follows the path into the result: object fields, or array indexes; 404 when it leads nowhere. */
    static JsonNode project(JsonNode result, List<String> path) {
        JsonNode at = result;
        for (String step : path) {
            JsonNode next = null;
            if (at.isObject()) {
                next = at.get(step);
            } else if (at.isArray() && step.matches("\\d{1,9}")) {
                next = at.get(Integer.parseInt(step));
            }
            if (next == null) {
                throw new ApiException(404, "Response does not include requested property: the result has nothing at '/"
                        + String.join("/", path) + "'.");
            }
            at = next;
        }
        return at;
    }

    /**
     * The {@code .http} answer: {@code statusCode} (default 200, or 204 without a body), {@code headers}
     * (string, number or boolean values; an array repeats the header) and {@code body}. A string body
     * is sent as is, or decoded from base64 when its content type is binary; any other JSON body is
     * serialized, with {@code application/json} unless the headers name another JSON type.
     */
    static WebResponse http(JsonNode result) {
        if (!result.isObject()) {
            throw invalid("message/http", "the result is " + describe(result) + "; it must be an object with 'statusCode', 'headers' and 'body'");
        }
        List<WebResponse.Header> headers = headers(result.get("headers"));
        Optional<Integer> status = statusCode(result.get("statusCode"));
        Optional<String> declaredType = Optional.empty();
        List<WebResponse.Header> others = new ArrayList<>();
        for (WebResponse.Header h : headers) {
            String lower = h.name().toLowerCase(Locale.ROOT);
            if (lower.equals("content-type")) {
                declaredType = Optional.of(h.value());
            } else if (!COMPUTED.contains(lower)) {
                others.add(h);
            }
        }
        JsonNode body = result.get("body");
        if (body == null || body.isNull() || (body.isTextual() && body.asText().isEmpty())) {
            // No body: the action's content type would describe nothing, so it is dropped.
            return new WebResponse(status.orElse(204), others, Optional.empty(), new byte[0]);
        }
        int code = status.orElse(200);
        if (body.isTextual()) {
            String type = declaredType.orElse("text/html");
            String base = MediaTypes.base(type).orElseThrow(() -> invalid("message/http", "the content type '" + type + "' is not a media type"));
            if (MediaTypes.isBinary(base)) {
                byte[] decoded;
                try {
                    // Line breaks are common in base64 (76-column encoders); anything else that is not base64 is an error.
                    decoded = Base64.getDecoder().decode(WHITESPACE.matcher(body.asText()).replaceAll(""));
                } catch (IllegalArgumentException e) {
                    throw invalid("message/http", "the content type '" + type + "' is binary, so the body must be base64, and it is not ("
                            + e.getMessage() + ")");
                }
                return new WebResponse(code, others, Optional.of(type), decoded);
            }
            String sent = base.startsWith("text/") && !MediaTypes.hasCharset(type) ? type + "; charset=UTF-8" : type;
            return new WebResponse(code, others, Optional.of(sent), body.asText().getBytes(StandardCharsets.UTF_8));
        }
        String type = declaredType.orElse("application/json");
        Optional<String> base = MediaTypes.base(type);
        if (base.isEmpty() || !MediaTypes.isJsonFamily(base.get())) {
            throw invalid("message/http", "the body is JSON (" + describe(body) + ") but the content type is '" + type
                    + "'; send a string body for other types");
        }
        return new WebResponse(code, others, Optional.of(type), bytes(body));
    }

    private static List<WebResponse.Header> headers(JsonNode headers) {
        List<WebResponse.Header> out = new ArrayList<>();
        if (headers == null || headers.isNull()) {
            return out;
        }
        if (!headers.isObject()) {
            throw invalid("message/http", "'headers' is " + describe(headers) + ", not an object");
        }
        for (Map.Entry<String, JsonNode> e : headers.properties()) {
            String name = e.getKey();
            if (!TOKEN.matcher(name).matches()) {
                throw invalid("message/http", "'" + name + "' is not a valid header name");
            }
            JsonNode v = e.getValue();
            if (v.isArray()) {
                for (JsonNode item : v) {
                    out.add(new WebResponse.Header(name, headerValue(name, item)));
                }
            } else {
                out.add(new WebResponse.Header(name, headerValue(name, v)));
            }
        }
        return out;
    }

    private static String headerValue(String name, JsonNode v) {
        String value;
        if (v.isTextual()) {
            value = v.asText();
        } else if (v.isNumber() || v.isBoolean()) {
            value = v.asText();
        } else {
            throw invalid("message/http", "header '" + name + "' is " + describe(v) + "; header values are strings, numbers or booleans");
        }
        // A line break would let the action write headers (or a body) of its own choosing into the answer.
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                throw invalid("message/http", "header '" + name + "' contains a line break or NUL");
            }
        }
        return value;
    }

    private static Optional<Integer> statusCode(JsonNode code) {
        if (code == null || code.isNull()) {
            return Optional.empty();
        }
        int c;
        if (code.isIntegralNumber() && code.canConvertToInt()) {
            c = code.intValue();
        } else if (code.isNumber()) {
            BigDecimal d = code.decimalValue();
            if (d.stripTrailingZeros().scale() > 0) {
                throw invalid("message/http", "'statusCode' " + code + " is not a whole number");
            }
            c = d.intValue();
        } else if (code.isTextual()) {
            try {
                c = Integer.parseInt(code.asText().trim());
            } catch (NumberFormatException e) {
                throw invalid("message/http", "'statusCode' \"" + code.asText() + "\" is not a number");
            }
        } else {
            throw invalid("message/http", "'statusCode' is " + describe(code) + ", not a number");
        }
        if (c < 100 || c > 599) {
            throw invalid("message/http", "'statusCode' " + c + " is not an HTTP status (100 to 599)");
        }
        return Optional.of(c);
    }

    private static ApiException invalid(String mediaType, String why) {
        return ApiException.badRequest("Response is not valid '" + mediaType + "': " + why + ".");
    }

    private static String at(List<String> projection) {
        return projection.isEmpty() ? "" : " at '/" + String.join("/", projection) + "'";
    }

    private static String describe(JsonNode v) {
        return switch (v.getNodeType()) {
            case OBJECT -> "an object";
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> v.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }

    private static byte[] bytes(JsonNode v) {
        return v.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String pretty(JsonNode v, ObjectMapper json) {
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(v);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return v.toString();
        }
    }
}
