package io.petrel.store;

/**
 * One change applied by the local replica.
 *
 * <ul>
 *   <li>{@code PUT}: {@code kv} holds the new value;
 *   <li>{@code DELETE}: {@code kv} holds the key and the last value it had; {@code cause} tells
 *       whether a client deleted it or its lease lapsed;
 *   <li>{@code RESET}: the replica's whole state was replaced (a snapshot was installed) at
 *       {@code revision}; {@code kv} is null and watchers must reload what they cache.
 * </ul>
 */
public record WatchEvent(Type type, KeyValue kv, long revision, Cause cause) {

    public enum Type { PUT, DELETE, RESET }

    public enum Cause { CLIENT, LEASE_EXPIRED, LEASE_REVOKED, SNAPSHOT }
}
