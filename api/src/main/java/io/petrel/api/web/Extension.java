package io.petrel.api.web;

import java.util.Locale;

/**
 * The content extension of a web action URL: what the caller wants back. {@code .http} lets the
 * action answer as HTTP ({@code statusCode}, {@code headers}, {@code body}); the others serve one
 * value of the result with a fixed media type.
 */
enum Extension {
    HTTP(".http", null, null),
    JSON(".json", null, "application/json"),
    HTML(".html", "html", "text/html; charset=UTF-8"),
    SVG(".svg", "svg", "image/svg+xml"),
    TEXT(".text", "text", "text/plain; charset=UTF-8");

    private final String suffix;
    private final String field;
    private final String contentType;

    Extension(String suffix, String field, String contentType) {
        this.suffix = suffix;
        this.field = field;
        this.contentType = contentType;
    }

    String suffix() {
        return suffix;
    }

    /** The result field served when the result is an object ({@code html}, {@code svg}, {@code text}); null for the others. */
    String field() {
        return field;
    }

    /** The media type of the answer; null for {@code .http}, where the action says. */
    String contentType() {
        return contentType;
    }

    /** An action name and its extension. */
    record Split(String name, Extension extension) {
    }

    /**
     * Splits {@code hello.json} into {@code hello} and {@link #JSON}. A name without a known
     * extension is the whole name with {@code .http}: action names may contain dots, so only the five
     * extensions are taken off.
     */
    static Split split(String nameWithExtension) {
        String lower = nameWithExtension.toLowerCase(Locale.ROOT);
        for (Extension e : values()) {
            if (lower.endsWith(e.suffix)) {
                return new Split(nameWithExtension.substring(0, nameWithExtension.length() - e.suffix.length()), e);
            }
        }
        return new Split(nameWithExtension, HTTP);
    }
}
