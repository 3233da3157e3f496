package io.petrel.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * One stored value with its history: the revision that created the key, the revision of its last
 * change, how many times it was written since it was created, and the lease it is bound to (0: none).
 */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision, long version, long leaseId) {

    public KeyValue {
        requireNonNull(key, "key");
        requireNonNull(value, "value");
    }

    public String valueAsString() {
        return new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue kv && key.equals(kv.key) && Arrays.equals(value, kv.value)
                && createRevision == kv.createRevision && modRevision == kv.modRevision
                && version == kv.version && leaseId == kv.leaseId;
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Long.hashCode(modRevision);
    }

    @Override
    public String toString() {
        return "KeyValue[" + key + ", " + value.length + " bytes, rev " + createRevision + ".." + modRevision
                + ", version " + version + (leaseId != 0 ? ", lease " + leaseId : "") + "]";
    }
}
