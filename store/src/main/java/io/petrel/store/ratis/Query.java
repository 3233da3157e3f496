package io.petrel.store.ratis;

/** A read-only request to the state machine. */
record Query(Type type, String key, String prefix, String startAfter, int limit) {

    enum Type { GET, SCAN, REVISION, DIGEST, REGION }

    static Query get(String key) {
        return new Query(Type.GET, key, null, null, 0);
    }

    static Query scan(String prefix, String startAfter, int limit) {
        return new Query(Type.SCAN, null, prefix, startAfter, limit);
    }

    static Query revision() {
        return new Query(Type.REVISION, null, null, null, 0);
    }

    static Query region() {
        return new Query(Type.REGION, null, null, null, 0);
    }

    static Query digest() {
        return new Query(Type.DIGEST, null, null, null, 0);
    }
}
