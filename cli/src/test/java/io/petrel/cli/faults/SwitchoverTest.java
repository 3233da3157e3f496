package io.petrel.cli.faults;

import io.petrel.cli.local.GatewaySpec;
import io.petrel.cli.local.NamedRegions;
import io.petrel.cli.local.RegionLayout;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A planned switchover under continuous writes: the primary stops taking writes, ships its last entries
 * and the standby takes over with nothing lost; the global DNS name, served by both regions' gateways,
 * flips to the new primary's gateways; the old primary fails back as a standby that reports nothing lost.
 */
class SwitchoverTest {
    private final DrTestRegions regions = new DrTestRegions();

    @Test
    void aSwitchoverLosesNothingAndMovesTheGlobalName() throws Exception {
        Path data = Files.createTempDirectory("petrel-switchover-");
        System.setProperty("petrel.home", data.resolve("home").toString());
        Path home = data.resolve("home");
        int prefix = ThreadLocalRandom.current().nextInt(100, 240);
        try {
            regions.run("up", "--region", "east", "--ip-prefix", "127." + prefix, "--gateways", "1");
            RegionLayout east = RegionLayout.load(home.resolve("regions/east"));
            regions.awaitRole(east, "PRIMARY", Duration.ofSeconds(30));
            regions.run("up", "--region", "west", "--standby-of", "east", "--manual-failover", "--ip-prefix", "127." + (prefix + 1),
                    "--gateways", "1");
            RegionLayout west = RegionLayout.load(home.resolve("regions/west"));
            east = RegionLayout.load(home.resolve("regions/east"));
            regions.awaitRole(west, "STANDBY", Duration.ofSeconds(30));
            RegionLayout eastNow = east;
            DrTestRegions.awaitTrue(() -> globalAnswer(west).equals(gatewayHosts(eastNow)) && globalAnswer(eastNow).equals(gatewayHosts(eastNow)),
                    Duration.ofSeconds(30), "both regions' gateways answer the global name with the primary's gateways");

            ConcurrentSkipListSet<Integer> acked = new ConcurrentSkipListSet<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int n = 0; !stop.get(); n++) {
                    try {
                        if (regions.put(eastNow, "s-" + n) == 200) {
                            acked.add(n);
                        }
                    } catch (Exception e) {
                        // refused once the switchover starts
                    }
                }
            });
            Thread.sleep(2000);
            long started = System.nanoTime();
            regions.run("region", "switchover", "--region", "east", "--to", "west");
            double took = (System.nanoTime() - started) / 1e9;
            stop.set(true);
            writer.join();

            for (int n : acked) {
                assertThat(regions.get(west, "s-" + n)).as("write s-%d acknowledged by the old primary", n).isEqualTo(200);
            }
            DrTestRegions.awaitTrue(() -> regions.put(west, "after-switchover") == 200, Duration.ofSeconds(10), "the new primary takes writes");
            assertThat(regions.putRaw(east, "on-the-old-primary").statusCode()).isEqualTo(503);
            long flipStarted = System.nanoTime();
            DrTestRegions.awaitTrue(() -> globalAnswer(eastNow).equals(gatewayHosts(west)) && globalAnswer(west).equals(gatewayHosts(west)),
                    Duration.ofSeconds(30), "the global name answers with the new primary's gateways");
            System.out.printf("MEASURED switchover: %d writes acknowledged before it, all on the new primary; switchover took %.2f s; "
                    + "the global name flipped %.2f s after it returned%n", acked.size(), took, (System.nanoTime() - flipStarted) / 1e9);

            var failback = regions.run("region", "failback", "--region", "east");
            assertThat(failback.out()).contains("applied 0 write entries after entry");
            assertThat(regions.put(west, "after-failback")).isEqualTo(200);
            DrTestRegions.awaitTrue(() -> regions.get(eastNow, "after-failback") == 200, Duration.ofSeconds(60), "the old primary follows");
        } finally {
            regions.downIfUp(home, "east");
            regions.downIfUp(home, "west");
            DrTestRegions.deleteRecursively(data);
        }
    }

    private static List<String> gatewayHosts(RegionLayout region) {
        return region.gateways().stream().map(GatewaySpec::host).sorted().toList();
    }

    /** What the region's first gateway answers for the global name. */
    private static List<String> globalAnswer(RegionLayout region) throws Exception {
        GatewaySpec g = region.gateways().getFirst();
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(g.host(), g.dnsPort()));
        resolver.setTimeout(Duration.ofSeconds(2));
        Message answer = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(NamedRegions.GLOBAL_NAME + "."), Type.A, DClass.IN)));
        List<String> out = new ArrayList<>();
        for (Record rec : answer.getSection(Section.ANSWER)) {
            out.add(((ARecord) rec).getAddress().getHostAddress());
        }
        return out.stream().sorted().toList();
    }
}
