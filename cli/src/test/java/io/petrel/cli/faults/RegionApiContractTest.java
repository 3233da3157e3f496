package io.petrel.cli.faults;

import io.petrel.api.ApiContract;
import io.petrel.cli.local.ZoneSpec;

import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole API contract suite against a real three-zone region while one zone dies: the suite talks
 * to one zone's API, and a few seconds in, the leader's zone is killed with SIGKILL. Every request
 * to the live zone must still get its right answer, and nothing acknowledged may be lost (the
 * suite reads back what it wrote).
 */
class RegionApiContractTest extends ApiContract {
    private static final long KILL_AFTER_MILLIS = 1_500;
    private RegionHarness region;
    private ScheduledExecutorService killer;
    private ScheduledFuture<Boolean> kill;
    private String victim;

    @Override
    protected Endpoint open() throws Exception {
        region = RegionHarness.start(Map.of());
        victim = region.leader();
        ZoneSpec served = region.region().layout().zones().stream().filter(z -> !z.zone().equals(victim)).findFirst().orElseThrow();
        String adminKey = Files.readString(region.region().layout().adminKeyFile()).trim();
        killer = Executors.newSingleThreadScheduledExecutor();
        kill = killer.schedule(() -> {
            System.out.printf("MEASURED killing the leader's zone %s while the suite talks to zone %s%n", victim, served.zone());
            return region.zone(victim).kill();
        }, KILL_AFTER_MILLIS, TimeUnit.MILLISECONDS);
        return new Endpoint(served.apiUrl(), adminKey);
    }

    @Override
    protected boolean developmentKeysSeeded() {
        return true;
    }

    @Override
    protected void close() throws Exception {
        try {
            // The suite must really have run with a zone going away, or it proved nothing about faults.
            assertThat(kill.isDone()).as("zone %s was killed before the suite ended", victim).isTrue();
            assertThat(kill.get()).as("zone %s was running when it was killed", victim).isTrue();
        } finally {
            killer.shutdownNow();
            region.close();
        }
    }
}
