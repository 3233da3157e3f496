package io.petrel.node;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Where a zone serves the OpenWhisk API and how: its own address, an optional address shared with
 * the other zones of a one-machine region (SO_REUSEPORT), the admin key's file (no file: no admin
 * API), whether to seed OpenWhisk's well-known development keys (never by default), how long
 * activation records are kept, and how long a stopping zone reports not ready before it stops serving
 * ({@code drain}, so that load balancers take it out first).
 */
public record ApiSettings(String host, int port, Optional<HostPort> shared, Optional<Path> adminKeyFile, boolean seedDevelopmentKeys,
                          Duration activationRetention, Duration drain) {
    public static final int DEFAULT_PORT = 3233;

    public ApiSettings {
        requireNonNull(host, "host");
        requireNonNull(activationRetention, "activationRetention");
        if (activationRetention.toSeconds() < 1) {
            throw new IllegalArgumentException("activation.retention.seconds must be at least 1");
        }
        requireNonNull(shared, "shared");
        requireNonNull(drain, "drain");
        requireNonNull(adminKeyFile, "adminKeyFile");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("api port " + port + " is out of range");
        }
    }

    /** A {@code host:port} address. */
    public record HostPort(String host, int port) {
        public HostPort {
            requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is out of range");
            }
        }

        public static HostPort parse(String key, String value) {
            int colon = value.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("node configuration '" + key + "' must look like host:port, got '" + value + "'");
            }
            try {
                return new HostPort(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("node configuration '" + key + "' must look like host:port, got '" + value + "'");
            }
        }
    }
}
