package io.petrel.api.transfer;

import io.petrel.api.auth.KeyRegistry;
import io.petrel.api.entity.Collection;
import io.petrel.api.namespace.NamespaceRegistry;

/**
 * Where a namespace's items are in the store, as api/README.md ("Keys in the store") lays them out.
 * The exporter reads these ranges through the {@code Store} interface alone; the round-trip tests
 * fail if one of them moves without this class.
 */
final class NamespaceKeys {
    static final String KEYS = KeyRegistry.PREFIX;

    private NamespaceKeys() {
    }

    static String namespace(String ns) {
        return NamespaceRegistry.PREFIX + ns;
    }

    static String policy(String ns) {
        return "policy/" + ns;
    }

    static String entities(String ns, Collection c) {
        return "ent/" + ns + "/" + c.path() + "/";
    }

    static String artifacts(String ns) {
        return "art/" + ns + "/";
    }

    static String artifactUsage(String ns) {
        return "artusage/" + ns;
    }
}
