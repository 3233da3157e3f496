package io.petrel.api.web;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which content types carry text and which bytes. OpenWhisk (akka-http) decides this per media type:
 * text, JSON, XML, JavaScript and form data are text; everything else, including {@code image/svg+xml}
 * and a body without a content type, is binary and travels as base64 in JSON.
 */
final class MediaTypes {
    // type "/" subtype, each an RFC 7230 token; parameters after ';' are not checked.
    private static final Pattern MEDIA_TYPE = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    static final String FORM = "application/x-www-form-urlencoded";
    static final String OCTETS = "application/octet-stream";

    private MediaTypes() {
    }

    /** {@code type/subtype} in lowercase, without parameters; empty when it is not a media type. */
    static Optional<String> base(String contentType) {
        if (contentType == null) {
            return Optional.empty();
        }
        int semicolon = contentType.indexOf(';');
        String base = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        return MEDIA_TYPE.matcher(base).matches() ? Optional.of(base) : Optional.empty();
    }

    static boolean isJsonFamily(String base) {
        return base.equals("application/json") || base.endsWith("+json");
    }

    static boolean isBinary(String base) {
        if (base.startsWith("text/") || base.equals(FORM) || base.equals("application/javascript")
                || base.equals("application/ecmascript") || base.equals("application/xml")) {
            return false;
        }
        if (base.startsWith("application/") && (base.endsWith("+json") || base.endsWith("+xml"))) {
            return false;
        }
        return !base.equals("application/json");
    }

    static boolean hasCharset(String contentType) {
        return contentType.toLowerCase(Locale.ROOT).contains("charset=");
    }
}
