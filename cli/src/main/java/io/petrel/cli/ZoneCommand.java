package io.petrel.cli;

import io.petrel.cli.local.LocalRegion;
import io.petrel.cli.local.ZoneProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code petrel zone kill|stop|start ZONE}: one zone of the local region. */
@Command(name = "zone", mixinStandardHelpOptions = true,
        description = "kill (SIGKILL), stop (SIGTERM) or start one zone: its node process and everything it started.")
final class ZoneCommand implements Callable<Integer> {
    enum Action { kill, stop, start }

    @Parameters(index = "0", description = "kill, stop or start")
    Action action;

    @Parameters(index = "1", description = "the zone (a, b, c ...)")
    String zone;

    @Mixin
    RegionOptions region;

    @Override
    public Integer call() throws Exception {
        LocalRegion r = region.open();
        ZoneProcess p = r.process(zone);
        switch (action) {
            case kill -> System.out.println(p.kill() ? "zone " + zone + " killed (SIGKILL)" : "zone " + zone + " was not running");
            case stop -> System.out.println(p.stop(Duration.ofSeconds(20)) ? "zone " + zone + " stopped" : "zone " + zone + " was not running");
            case start -> {
                long pid = r.start(zone).pid();
                r.awaitReady(java.util.List.of(zone), Duration.ofSeconds(60));
                System.out.println("zone " + zone + " started (pid " + pid + ") and ready");
            }
        }
        return 0;
    }
}
