package io.petrel.container;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fence around the region's own ports: an action may call the API port of a region host, and is
 * refused every other port of it (a store voter's, a node's), while Petrel's own process is not.
 */
class NetworkFenceTest {
    // Tries to connect to each port and says what happened.
    private static final String DIALER = """
            const net = require('net');
            function dial(host, port) {
              return new Promise(resolve => {
                const s = net.connect({host, port});
                s.setTimeout(3000, () => { s.destroy(); resolve('TIMEOUT'); });
                s.on('connect', () => { s.end(); resolve('CONNECTED'); });
                s.on('error', e => resolve(e.code));
              });
            }
            async function main(p) {
              return {api: await dial(p.host, p.api), store: await dial(p.host, p.store)};
            }
            """;

    @Test
    void actionsReachOnlyTheApiPortOfRegionHosts() throws Exception {
        Isolation isolation = TestSupport.strongest();
        assumeTrue(isolation.separateUsers(), "containers do not run as users of their own here: " + isolation.describe());
        String host = "127." + ThreadLocalRandom.current().nextInt(100, 250) + ".200.1";
        try (ServerSocket api = new ServerSocket(); ServerSocket store = new ServerSocket()) {
            api.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            store.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            List<Thread> acceptors = new ArrayList<>();
            for (ServerSocket s : List.of(api, store)) {
                acceptors.add(Thread.ofVirtual().start(() -> {
                    while (!s.isClosed()) {
                        try (Socket ignored = s.accept()) {
                            // accepted: the dialer sees CONNECTED
                        } catch (IOException e) {
                            return;
                        }
                    }
                }));
            }
            NetworkFence fence = NetworkFence.install("fence-test", isolation, List.of(host), api.getLocalPort());
            assumeTrue(fence.notInForce().isEmpty(), "no fence on this machine: " + fence.notInForce().orElse(""));
            try (ContainerFactory factory = TestSupport.factory(isolation, "fence-test");
                 ActionContainer container = TestSupport.startNode(factory, DIALER)) {
                Outcome outcome = container.run(TestSupport.run(TestSupport.object("{\"host\":\"" + host + "\",\"api\":" + api.getLocalPort()
                        + ",\"store\":" + store.getLocalPort() + "}")), TestSupport.TIMEOUT, TestSupport.LOG_LIMIT);
                JsonNode result = outcome.result();
                assertThat(result.path("api").asText()).as(result.toString()).isEqualTo("CONNECTED");
                assertThat(result.path("store").asText()).as(result.toString()).isIn("ECONNREFUSED", "ECONNRESET");
                // Petrel itself (not a container user) still reaches the same port.
                try (Socket petrel = new Socket(host, store.getLocalPort())) {
                    assertThat(petrel.isConnected()).isTrue();
                }
            } finally {
                List<String> delete = new ArrayList<>(List.of("-D"));
                delete.addAll(NetworkFence.rule(host, api.getLocalPort()));
                NetworkFence.iptables(delete);
            }
        }
    }
}
