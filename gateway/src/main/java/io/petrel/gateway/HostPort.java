package io.petrel.gateway;

import static java.util.Objects.requireNonNull;

/** A {@code host:port} address. */
public record HostPort(String host, int port) {
    public HostPort {
        requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("an address needs a host");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range");
        }
    }

    /** Parses {@code host:port}; {@code what} names the setting in the error. */
    public static HostPort parse(String what, String value) {
        String v = value.trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException(what + " must look like host:port, got '" + value + "'");
        }
        try {
            return new HostPort(v.substring(0, colon), Integer.parseInt(v.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must look like host:port, got '" + value + "'");
        }
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
