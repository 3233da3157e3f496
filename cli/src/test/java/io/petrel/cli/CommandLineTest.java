package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The region commands as a user runs them: up, status (table and JSON), zone kill/start, down, up again. */
class CommandLineTest {
    private Path data;
    private String ipPrefix;

    @BeforeEach
    void setUp() throws Exception {
        data = Files.createTempDirectory("petrel-cli-test");
        // Never touch the developer's own ~/.petrel (its pointer to their region).
        System.setProperty("petrel.home", data.resolve("home").toString());
        ipPrefix = "127." + ThreadLocalRandom.current().nextInt(100, 250);
    }

    @AfterEach
    void tearDown() throws Exception {
        run("down", "--data", data.toString());
        try (Stream<Path> walk = Files.walk(data)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void upStatusZoneKillStartDownAndUpAgain() throws Exception {
        Result up = run("up", "--data", data.toString(), "--ip-prefix", ipPrefix);
        assertThat(up.code).as(up.out).isZero();
        assertThat(up.out).contains("is ready").contains(ipPrefix + ".1.1").contains(ipPrefix + ".3.1");

        JsonNode status = json(run("status", "--json", "--data", data.toString()));
        assertThat(status.path("zones")).hasSize(3);
        int leaders = 0;
        for (JsonNode z : status.path("zones")) {
            assertThat(z.path("up").asBoolean()).isTrue();
            for (String field : new String[] {"zone", "role", "term", "commitIndex", "appliedIndex", "statusUrl"}) {
                assertThat(z.has(field)).as("field %s", field).isTrue();
            }
            leaders += "LEADER".equals(z.path("role").asText()) ? 1 : 0;
            JsonNode own = new ObjectMapper().readTree(java.net.URI.create(z.path("statusUrl").asText()).toURL());
            assertThat(own.path("zone").asText()).isEqualTo(z.path("zone").asText());
            assertThat(own.has("commitIndex")).isTrue();
        }
        assertThat(leaders).isEqualTo(1);

        Result table = run("status", "--data", data.toString());
        assertThat(table.out).contains("ZONE").contains("LEADER").contains("FOLLOWER");

        assertThat(run("zone", "kill", "b", "--data", data.toString()).out).contains("killed");
        JsonNode afterKill = json(run("status", "--json", "--data", data.toString()));
        assertThat(afterKill.path("zones").get(1).path("up").asBoolean()).isFalse();
        assertThat(afterKill.path("zones").get(1).path("role").asText()).isEqualTo("DOWN");

        Result start = run("zone", "start", "b", "--data", data.toString());
        assertThat(start.out).as(start.out).contains("ready");
        assertThat(run("zone", "stop", "c", "--data", data.toString()).out).contains("stopped");
        assertThat(run("zone", "start", "c", "--data", data.toString()).code).isZero();

        assertThat(run("down", "--data", data.toString()).out).contains("stopped 3 zone(s)");
        assertThat(json(run("status", "--json", "--data", data.toString())).path("zones").get(0).path("up").asBoolean()).isFalse();
        // Data survives a down and up: the zones come back with the same term history.
        Result again = run("up", "--data", data.toString());
        assertThat(again.code).as(again.out).isZero();
        JsonNode back = json(run("status", "--json", "--data", data.toString()));
        assertThat(back.path("zones").get(0).path("term").asLong()).isGreaterThan(1);
    }

    @Test
    void badArgumentsGetAClearError() throws Exception {
        Result r = run("up", "--zones", "4", "--data", data.toString());
        assertThat(r.code).isNotZero();
        assertThat(r.err).contains("--zones must be 3 or 5");
        Result s = run("status", "--data", data.resolve("nothing-here").toString());
        assertThat(s.code).isNotZero();
        assertThat(s.err).contains("no region in");
        Result z = run("zone", "explode", "a", "--data", data.toString());
        assertThat(z.code).isNotZero();
    }

    private record Result(int code, String out, String err) {
    }

    private static JsonNode json(Result r) throws Exception {
        assertThat(r.code).as(r.err).isZero();
        return new ObjectMapper().readTree(r.out);
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            var cl = PetrelMain.commandLine();
            cl.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
            int code = cl.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }
}
