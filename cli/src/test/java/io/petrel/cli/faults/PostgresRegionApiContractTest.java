package io.petrel.cli.faults;

import io.petrel.api.ApiContract;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.store.postgres.PostgresCluster;
import org.junit.jupiter.api.BeforeEach;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole API contract suite against a three-zone region whose zones keep their state in a real PostgreSQL (a
 * primary and a synchronous standby), started as {@code petrel up --store postgres} starts one. On PostgreSQL no
 * zone is special: before the suite's fourth test, another zone than the one the suite talks to is killed with
 * SIGKILL (its watches and leases with it), and every request must still get its right answer.
 */
class PostgresRegionApiContractTest extends ApiContract {
    /** The suite runs in about a second on PostgreSQL: the kill is tied to a test, not to a time. */
    private static final int KILL_BEFORE_TEST = 4;
    private PostgresCluster database;
    private Path passwordFile;
    private RegionHarness region;
    private String victim;
    private String served;
    private int testsStarted;
    private Boolean killed;

    @Override
    protected Endpoint open() throws Exception {
        database = PostgresCluster.start(true);
        passwordFile = Files.createTempFile("petrel-pg-password", "",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(passwordFile, database.password() + "\n");
        region = RegionHarness.start(Map.of(
                "store.backend", "postgres",
                "store.postgres.url", database.url(),
                "store.postgres.user", PostgresCluster.USER,
                "store.postgres.password.file", passwordFile.toString()));
        // Every zone really runs on the database: its status and its metrics say so.
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (String z : region.zones()) {
            assertThat(region.status(z).path("backend").asText()).isEqualTo("postgres");
            String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(region.spec(z).httpUrl() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("petrel_store_reachable{zone=\"" + z + "\"} 1");
        }
        victim = region.zones().getFirst();
        ZoneSpec zone = region.region().layout().zones().stream().filter(z -> !z.zone().equals(victim)).findFirst().orElseThrow();
        served = zone.zone();
        String adminKey = Files.readString(region.region().layout().adminKeyFile()).trim();
        return new Endpoint(zone.apiUrl(), adminKey);
    }

    @BeforeEach
    void killAZoneHalfway() {
        if (++testsStarted == KILL_BEFORE_TEST) {
            System.out.printf("MEASURED killing zone %s before test %d while the suite talks to zone %s (store on PostgreSQL)%n",
                    victim, KILL_BEFORE_TEST, served);
            killed = region.zone(victim).kill();
        }
    }

    @Override
    protected boolean developmentKeysSeeded() {
        return true;
    }

    @Override
    protected void close() throws Exception {
        // Also called when open() failed half-way: stop whatever did start.
        try {
            if (region != null) {
                // The suite must really have run with a zone going away, or it proved nothing about it.
                assertThat(killed).as("zone %s was running when it was killed during the suite", victim).isTrue();
            }
        } finally {
            try {
                if (region != null) {
                    region.close();
                }
            } finally {
                if (database != null) {
                    database.close();
                }
                if (passwordFile != null) {
                    Files.deleteIfExists(passwordFile);
                }
            }
        }
    }
}
