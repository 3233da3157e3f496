package io.petrel.cli;

import io.petrel.node.NodeConfig;
import io.petrel.node.ZoneNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code petrel node}: runs one zone in this process until SIGTERM. The same command runs a zone of a
 * local region and a zone on its own machine.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run one zone (its store voter and HTTP server) in this process until SIGTERM.")
final class NodeCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "node configuration file (Java properties)")
    Path config;

    @Option(names = "--region", description = "region name (all zones of a region must agree)")
    String region;

    @Option(names = "--zone", description = "this zone's name")
    String zone;

    @Option(names = "--peers", description = "every zone's store address: a=10.0.1.5:7100,b=...,c=...")
    String peers;

    @Option(names = "--data", paramLabel = "DIR", description = "this zone's data folder")
    String data;

    @Option(names = "--http", paramLabel = "HOST:PORT", description = "where the HTTP server listens")
    String http;

    @Override
    public Integer call() throws Exception {
        Properties p = config != null ? NodeConfig.readFile(config) : new Properties();
        Foreground.override(p, "region", region);
        Foreground.override(p, "zone", zone);
        Foreground.override(p, "peers", peers);
        Foreground.override(p, "data", data);
        Foreground.override(p, "http", http);
        NodeConfig cfg = NodeConfig.fromProperties(p);
        ZoneNode node;
        try {
            node = ZoneNode.start(cfg);
        } catch (Exception e) {
            e.printStackTrace();
            System.err.println("petrel node: zone " + cfg.zone() + " refuses to start: " + rootMessage(e));
            return 2;
        }
        return Foreground.runUntilStopped(node);
    }

    static String rootMessage(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage()));
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
            t = c;
        }
        return sb.toString();
    }
}
