package io.petrel.gateway;

import static java.util.Objects.requireNonNull;

/** A zone the gateway sends requests to: its API address and the address of its health endpoint. */
public record ZoneTarget(String zone, HostPort api, HostPort health) {
    public ZoneTarget {
        requireNonNull(zone, "zone");
        requireNonNull(api, "api");
        requireNonNull(health, "health");
    }

    String apiBase() {
        return "http://" + api;
    }

    String readyUrl() {
        return "http://" + health + "/health/ready";
    }
}
