package io.petrel.cli;

import io.petrel.cli.local.LocalProcess;
import io.petrel.cli.local.LocalRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code petrel gw kill|stop|start NAME}: one gateway instance of the local region. */
@Command(name = "gw", mixinStandardHelpOptions = true,
        description = "kill (SIGKILL), stop (SIGTERM: drain, then stop) or start one gateway instance of the local region.")
final class GatewayInstanceCommand implements Callable<Integer> {
    enum Action { kill, stop, start }

    @Parameters(index = "0", description = "kill, stop or start")
    Action action;

    @Parameters(index = "1", description = "the instance (g1, g2 ...)")
    String name;

    @Mixin
    RegionOptions region;

    @Override
    public Integer call() throws Exception {
        LocalRegion r = region.open();
        LocalProcess p = r.gateway(name);
        switch (action) {
            case kill -> System.out.println(p.kill() ? "gateway " + name + " killed (SIGKILL)" : "gateway " + name + " was not running");
            case stop -> System.out.println(p.stop(Duration.ofSeconds(20)) ? "gateway " + name + " stopped" : "gateway " + name + " was not running");
            case start -> {
                long pid = r.startGateway(name).pid();
                r.awaitGateways(java.util.List.of(), Duration.ofSeconds(60));
                System.out.println("gateway " + name + " started (pid " + pid + ")");
            }
        }
        return 0;
    }
}
