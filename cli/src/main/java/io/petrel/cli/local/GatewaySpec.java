package io.petrel.cli.local;

import java.nio.file.Path;

/**
 * Where one gateway instance of a local region lives: its own loopback address (proxy on
 * {@code apiPort}, admin on {@code adminPort}, DNS on {@code dnsPort}) and its folder. Every instance
 * also listens on the region's shared addresses.
 */
public record GatewaySpec(String name, String host, int apiPort, int adminPort, int dnsPort, Path dataDir) {

    public String apiUrl() {
        return "http://" + host + ":" + apiPort;
    }

    public String adminUrl() {
        return "http://" + host + ":" + adminPort;
    }

    public String statusUrl() {
        return adminUrl() + "/gateway/v1/status";
    }
}
