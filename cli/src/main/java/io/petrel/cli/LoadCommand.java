package io.petrel.cli;

import io.petrel.api.OpenWhiskApi;
import io.petrel.cli.load.ApiLoad;
import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code petrel load}: steady reads and writes through a region's API for a while, a line a second,
 * so a user can watch what a fault does to them (nothing, if the region keeps its promise). At the
 * end every acknowledged write is read back.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Send steady reads and writes to the region's API, print what happened each second, then check every acknowledged write.")
final class LoadCommand implements Callable<Integer> {
    @Option(names = "--api", paramLabel = "URL", description = "the API (default: the local region's gateways, http://127.0.0.1:3233)")
    String api;

    @Option(names = "--auth", paramLabel = "UUID:KEY", description = "a key of the namespace to use (default: the local region's guest key)")
    String auth = OpenWhiskApi.GUEST_AUTH;

    @Option(names = "--seconds", defaultValue = "30", description = "how long (default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--readers", defaultValue = "4", description = "clients reading actions (default ${DEFAULT-VALUE})")
    int readers;

    @Option(names = "--writers", defaultValue = "2", description = "clients creating actions (default ${DEFAULT-VALUE})")
    int writers;

    @Option(names = "--data", paramLabel = "DIR", description = "the local region's data folder (default: the last region `up` started)")
    Path data;

    @Override
    public Integer call() throws Exception {
        if (seconds < 1 || seconds > 3600 || readers < 1 || readers > 256 || writers < 0 || writers > 256) {
            throw new IllegalArgumentException("--seconds must be 1 to 3600, --readers 1 to 256, --writers 0 to 256");
        }
        String base = api;
        if (base == null) {
            Path dir = data != null ? data.toAbsolutePath() : RegionOptions.lastRegion();
            base = "http://" + (RegionLayout.exists(dir) ? RegionLayout.load(dir).sharedApi() : "127.0.0.1:" + RegionLayout.API_PORT);
        }
        System.out.printf("load on %s: %d readers, %d writers, %d s (Ctrl-C stops it)%n", base, readers, writers, seconds);
        DateTimeFormatter hms = DateTimeFormatter.ofPattern("HH:mm:ss");
        try (ApiLoad load = ApiLoad.start(base, auth, readers, writers, 20)) {
            long reads = 0;
            long writes = 0;
            int failed = 0;
            Map<String, Long> served = Map.of();
            for (int s = 0; s < seconds; s++) {
                Thread.sleep(1_000);
                Map<String, Long> now = load.servedBy();
                StringBuilder zones = new StringBuilder();
                for (Map.Entry<String, Long> e : now.entrySet()) {
                    zones.append(' ').append(e.getKey()).append('=').append(e.getValue() - served.getOrDefault(e.getKey(), 0L));
                }
                List<ApiLoad.Failure> failures = load.failures();
                System.out.printf("%s  reads %5d/s  writes %4d/s  failed %d  served by%s%n", LocalTime.now().format(hms),
                        load.reads() - reads, load.writes() - writes, failures.size() - failed, zones);
                for (ApiLoad.Failure f : failures.subList(failed, failures.size())) {
                    System.out.println("    failed: " + f.what());
                }
                reads = load.reads();
                writes = load.writes();
                failed = failures.size();
                served = now;
            }
            load.close();
            List<String> lost = load.unreadable();
            System.out.printf("done: %d reads and %d writes acknowledged, %d failed; %d acknowledged writes cannot be read back%s%n",
                    load.reads(), load.writes(), load.failureCount(), lost.size(), lost.isEmpty() ? "" : ": " + lost);
            return load.failureCount() == 0 && lost.isEmpty() ? 0 : 1;
        }
    }
}
