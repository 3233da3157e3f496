package io.petrel.node.placement;

import io.petrel.store.Expect;
import io.petrel.store.KeyValue;
import io.petrel.store.Store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The credential zones present to each other's invokers: random, made once per region by whichever
 * zone gets there first, kept in the store (which tenants cannot read), read by every zone.
 */
final class PlacementSecret {
    static final String KEY = "invoker-secret";

    private final Store store;
    private volatile String secret;

    PlacementSecret(Store store) {
        this.store = requireNonNull(store, "store");
    }

    String get() {
        String s = secret;
        if (s != null) {
            return s;
        }
        synchronized (this) {
            if (secret == null) {
                Optional<KeyValue> kv = store.get(KEY);
                if (kv.isEmpty()) {
                    byte[] b = new byte[32];
                    new SecureRandom().nextBytes(b);
                    try {
                        store.put(KEY, HexFormat.of().formatHex(b).getBytes(StandardCharsets.US_ASCII), Expect.absent());
                    } catch (RuntimeException e) {
                        // another zone made it first: read theirs
                    }
                    kv = store.get(KEY);
                }
                secret = kv.orElseThrow(() -> new IllegalStateException("the region's invoker secret is not readable")).valueAsString();
            }
            return secret;
        }
    }

    boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.US_ASCII), get().getBytes(StandardCharsets.US_ASCII));
    }
}
