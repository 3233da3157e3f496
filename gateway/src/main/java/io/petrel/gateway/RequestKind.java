package io.petrel.gateway;

/**
 * What a request may do if it is sent twice, which decides when the gateway may retry it on
 * another zone after it reached one.
 */
public enum RequestKind {
    /** GET, HEAD, OPTIONS: changes nothing, so always retried. */
    READ,
    /**
     * An entity write in a namespace (PUT, DELETE, POST that is not an invocation): the API stores
     * its answer under its {@code X-Request-ID} in the write's own commit, so a retry with the same id
     * applies once.
     */
    IDEMPOTENT_WRITE,
    /**
     * Invocations, trigger fires, web actions and admin writes: once such a request reached a zone it
     * may have had its effect, so it is retried only if it never reached one.
     */
    UNSAFE;

    /** Classifies by method and path (the path without the query). */
    public static RequestKind of(String method, String path) {
        switch (method) {
            case "GET", "HEAD", "OPTIONS" -> {
                return path.startsWith("/api/v1/web/") ? UNSAFE : READ;
            }
            default -> {
            }
        }
        if (!path.startsWith("/api/v1/namespaces/")) {
            return UNSAFE; // the admin API and anything else: no request log behind it
        }
        // api/v1/namespaces/{ns}/{collection}/{name...}
        String[] s = path.substring(1).split("/", 6);
        if (s.length < 6 || s[5].isEmpty()) {
            return IDEMPOTENT_WRITE;
        }
        boolean post = method.equals("POST");
        if (post && (s[4].equals("actions") || s[4].equals("triggers"))) {
            return UNSAFE; // invoke an action, fire a trigger
        }
        return IDEMPOTENT_WRITE;
    }
}
