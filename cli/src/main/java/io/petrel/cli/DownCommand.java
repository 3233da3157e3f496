package io.petrel.cli;

import io.petrel.cli.local.LocalRegion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code petrel down}: stops every zone of the local region; the data stays for the next {@code up}. */
@Command(name = "down", mixinStandardHelpOptions = true, description = "Stop the local region, its zones and gateways (its data stays).")
final class DownCommand implements Callable<Integer> {
    @Mixin
    RegionOptions region;

    @Override
    public Integer call() throws Exception {
        LocalRegion r = region.open();
        int stopped = r.stopAll(Duration.ofSeconds(20));
        System.out.printf("stopped %d zone(s) and the gateways of the region in %s%n", stopped, r.layout().dataDir());
        return 0;
    }
}
