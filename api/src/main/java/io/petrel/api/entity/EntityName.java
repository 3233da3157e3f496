package io.petrel.api.entity;

import io.petrel.api.ApiException;

import java.util.regex.Pattern;

/** OpenWhisk's rules for entity and namespace names. */
public final class EntityName {
    // OpenWhisk EntityName: a word character first, then word characters, space and _ @ . & -,
    // not ending in a space; at most 256 characters.
    private static final Pattern NAME = Pattern.compile("\\A([\\w]|[\\w][\\w@ .&-]{0,254}[\\w@.&-])\\z", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern NAMESPACE = Pattern.compile("\\A[\\w][\\w@.-]{0,255}\\z");

    private EntityName() {
    }

    public static String require(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ApiException.badRequest(ApiException.BAD_NAME);
        }
        return name;
    }

    public static boolean isValidNamespace(String ns) {
        return ns != null && NAMESPACE.matcher(ns).matches() && !ns.equals("_");
    }

    /** A fully qualified name {@code /ns/name} or {@code /ns/pkg/name}. */
    public record Qualified(String namespace, String pkg, String name) {
        public String path() {
            return pkg == null ? namespace : namespace + "/" + pkg;
        }

        public String fullName() {
            return pkg == null ? name : pkg + "/" + name;
        }

        @Override
        public String toString() {
            return "/" + path() + "/" + name;
        }
    }

    /**
     * Parses {@code /ns/[pkg/]name}; a name without a leading slash is taken as being in
     * {@code defaultNamespace} (how OpenWhisk resolves rule and sequence references).
     */
    public static Qualified parseQualified(String raw, String defaultNamespace) {
        if (raw == null || raw.isBlank()) {
            throw ApiException.badRequest("The name of the entity is missing.");
        }
        String s = raw.trim();
        String[] parts;
        if (s.startsWith("/")) {
            parts = s.substring(1).split("/", -1);
            if (parts.length < 2 || parts.length > 3) {
                throw ApiException.badRequest("The fully qualified name '" + raw + "' must look like /namespace/[package/]name.");
            }
        } else {
            String[] rest = s.split("/", -1);
            if (rest.length > 2) {
                throw ApiException.badRequest("The name '" + raw + "' must look like [package/]name.");
            }
            parts = new String[rest.length + 1];
            parts[0] = defaultNamespace;
            System.arraycopy(rest, 0, parts, 1, rest.length);
        }
        String ns = parts[0].equals("_") ? defaultNamespace : parts[0];
        if (!isValidNamespace(ns)) {
            throw ApiException.badRequest(ApiException.BAD_NAME);
        }
        if (parts.length == 3) {
            return new Qualified(ns, require(parts[1]), require(parts[2]));
        }
        return new Qualified(ns, null, require(parts[1]));
    }
}
