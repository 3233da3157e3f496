package io.petrel.cli.local;

import io.petrel.store.ratis.Peer;

import java.nio.file.Path;

/**
 * Where one zone of a local region lives: its loopback address, its ports (store, node status,
 * OpenWhisk API) and its data folder.
 */
public record ZoneSpec(String zone, String host, int raftPort, int httpPort, int apiPort, Path dataDir) {

    public Peer peer() {
        return new Peer(zone, host, raftPort);
    }

    public String httpUrl() {
        return "http://" + host + ":" + httpPort;
    }

    public String apiUrl() {
        return "http://" + host + ":" + apiPort;
    }

    public String statusUrl() {
        return httpUrl() + "/admin/v1/status";
    }
}
