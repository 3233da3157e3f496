package io.petrel.store.ratis;

import static java.util.Objects.requireNonNull;

/** A zone's store voter: its zone name and the host and port its consensus traffic uses. */
public record Peer(String zone, String host, int port) {
    public Peer {
        requireNonNull(zone, "zone");
        requireNonNull(host, "host");
        if (!zone.matches("[a-z0-9][a-z0-9-]{0,31}")) {
            throw new IllegalArgumentException("zone name '" + zone + "' must be 1-32 lowercase letters, digits or '-'");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " of zone " + zone + " is out of range");
        }
    }

    public String address() {
        return host + ":" + port;
    }

    /** Parses {@code zone=host:port}. */
    public static Peer parse(String spec) {
        int eq = spec.indexOf('=');
        int colon = spec.lastIndexOf(':');
        if (eq <= 0 || colon < eq) {
            throw new IllegalArgumentException("peer '" + spec + "' must look like zone=host:port");
        }
        try {
            return new Peer(spec.substring(0, eq), spec.substring(eq + 1, colon), Integer.parseInt(spec.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("peer '" + spec + "' has a bad port", e);
        }
    }

    @Override
    public String toString() {
        return zone + "=" + address();
    }
}
