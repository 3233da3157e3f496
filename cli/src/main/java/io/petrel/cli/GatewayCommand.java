package io.petrel.cli;

import io.petrel.gateway.Gateway;
import io.petrel.gateway.GatewayConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code petrel gateway}: runs one gateway instance (global load balancer and DNS) in this process
 * until SIGTERM, when it drains: it leaves the rotation, finishes what it holds, then stops.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = "Run one gateway instance (the region's load balancer and DNS) in this process until SIGTERM.")
final class GatewayCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "gateway configuration file (Java properties; keys in gateway/README.md)")
    Path config;

    @Option(names = "--name", description = "this instance's name (g1, g2 ...)")
    String name;

    @Option(names = "--region", description = "the region it fronts")
    String region;

    @Option(names = "--zones", description = "the zones' API addresses: a=10.0.1.5:3233,b=...,c=...")
    String zones;

    @Option(names = "--listen", paramLabel = "HOST:PORT,...", description = "where the proxy listens")
    String listen;

    @Option(names = "--admin", paramLabel = "HOST:PORT", description = "where health, status and metrics are served")
    String admin;

    @Option(names = "--dns", paramLabel = "HOST:PORT,...", description = "where the DNS server listens (UDP and TCP)")
    String dns;

    @Override
    public Integer call() throws Exception {
        Properties p = config != null ? GatewayConfig.readFile(config) : new Properties();
        Foreground.override(p, "name", name);
        Foreground.override(p, "region", region);
        Foreground.override(p, "zones", zones);
        Foreground.override(p, "listen", listen);
        Foreground.override(p, "admin", admin);
        Foreground.override(p, "dns", dns);
        GatewayConfig cfg = GatewayConfig.fromProperties(p);
        Gateway gateway;
        try {
            gateway = Gateway.start(cfg);
        } catch (Exception e) {
            e.printStackTrace();
            System.err.println("petrel gateway: " + cfg.name() + " refuses to start: " + NodeCommand.rootMessage(e));
            return 2;
        }
        return Foreground.runUntilStopped(gateway);
    }
}
