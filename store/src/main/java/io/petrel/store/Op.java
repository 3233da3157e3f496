package io.petrel.store;

import static java.util.Objects.requireNonNull;

/** One change inside {@link Store#commit(java.util.List)}. */
public sealed interface Op permits Op.Put, Op.Delete {

    String key();

    Expect expect();

    /** Write {@code value} under {@code key}; {@code leaseId} 0 means no lease. */
    record Put(String key, byte[] value, Expect expect, long leaseId) implements Op {
        public Put {
            requireNonNull(key, "key");
            requireNonNull(value, "value");
            requireNonNull(expect, "expect");
        }

        public Put(String key, byte[] value, Expect expect) {
            this(key, value, expect, 0);
        }
    }

    record Delete(String key, Expect expect) implements Op {
        public Delete {
            requireNonNull(key, "key");
            requireNonNull(expect, "expect");
        }
    }
}
