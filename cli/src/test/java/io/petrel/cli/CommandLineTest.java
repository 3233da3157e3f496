package io.petrel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The region commands as a user runs them: up, status (table and JSON), zone kill/start, down, up again. */
class CommandLineTest {
    private Path data;
    private String ipPrefix;

    @BeforeEach
    void setUp() throws Exception {
        data = PetrelCli.freshDataDir("petrel-cli-test");
        ipPrefix = "127." + ThreadLocalRandom.current().nextInt(100, 250);
    }

    @AfterEach
    void tearDown() throws Exception {
        PetrelCli.downAndDelete(data);
    }

    @Test
    void upStatusZoneKillStartDownAndUpAgain() throws Exception {
        // A first start on a busy CI machine once went past up's default 90 s (the store client's stall after an
        // early election, see the store README); this test is about the commands, so it allows longer.
        PetrelCli.Result up = PetrelCli.run("up", "--data", data.toString(), "--ip-prefix", ipPrefix, "--timeout", "180");
        assertThat(up.code()).as(up.out() + up.err()).isZero();
        assertThat(up.out()).contains("is ready").contains(ipPrefix + ".1.1").contains(ipPrefix + ".3.1");

        JsonNode status = json(PetrelCli.run("status", "--json", "--data", data.toString()));
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

        PetrelCli.Result table = PetrelCli.run("status", "--data", data.toString());
        assertThat(table.out()).contains("ZONE").contains("LEADER").contains("FOLLOWER");

        assertThat(PetrelCli.run("zone", "kill", "b", "--data", data.toString()).out()).contains("killed");
        JsonNode afterKill = json(PetrelCli.run("status", "--json", "--data", data.toString()));
        assertThat(afterKill.path("zones").get(1).path("up").asBoolean()).isFalse();
        assertThat(afterKill.path("zones").get(1).path("role").asText()).isEqualTo("DOWN");

        PetrelCli.Result start = PetrelCli.run("zone", "start", "b", "--data", data.toString());
        assertThat(start.out()).as(start.out()).contains("ready");
        assertThat(PetrelCli.run("zone", "stop", "c", "--data", data.toString()).out()).contains("stopped");
        assertThat(PetrelCli.run("zone", "start", "c", "--data", data.toString()).code()).isZero();

        assertThat(PetrelCli.run("down", "--data", data.toString()).out()).contains("stopped 3 zone(s)");
        assertThat(json(PetrelCli.run("status", "--json", "--data", data.toString())).path("zones").get(0).path("up").asBoolean()).isFalse();
        // Data survives a down and up: the zones come back with the same term history.
        PetrelCli.Result again = PetrelCli.run("up", "--data", data.toString());
        assertThat(again.code()).as(again.out()).isZero();
        JsonNode back = json(PetrelCli.run("status", "--json", "--data", data.toString()));
        assertThat(back.path("zones").get(0).path("term").asLong()).isGreaterThan(1);
    }

    @Test
    void badArgumentsGetAClearError() throws Exception {
        PetrelCli.Result r = PetrelCli.run("up", "--zones", "4", "--data", data.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--zones must be 3 or 5");
        PetrelCli.Result s = PetrelCli.run("status", "--data", data.resolve("nothing-here").toString());
        assertThat(s.code()).isNotZero();
        assertThat(s.err()).contains("no region in");
        PetrelCli.Result z = PetrelCli.run("zone", "explode", "a", "--data", data.toString());
        assertThat(z.code()).isNotZero();
    }


    private static JsonNode json(PetrelCli.Result r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

}
