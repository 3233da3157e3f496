package io.petrel.container;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * Keeps actions away from the region's own ports. Containers share the machine's network (an action
 * calls the API host like any client), so without a fence an action could talk to a zone's store
 * voter or node port directly. When containers run as users of their own ({@link Isolation#separateUsers()})
 * and iptables is there, every TCP connection from those users to the region's hosts is refused
 * unless it goes to an allowed port (the API's): one rule per host in the chain {@code PETREL-ACTIONS},
 * which {@code OUTPUT} sends the container users' packets to. The rules are idempotent, shared by
 * the zones of one machine, and match only the container users, so nothing else is affected; they
 * stay when a zone stops, because another zone of the machine may have found them in place.
 */
public final class NetworkFence {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkFence.class);
    static final String CHAIN = "PETREL-ACTIONS";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Optional<String> notInForce;

    private NetworkFence(Optional<String> notInForce) {
        this.notInForce = notInForce;
    }

    /** Why the fence is not in force, if it is not. */
    public Optional<String> notInForce() {
        return notInForce;
    }

    /**
     * Refuses container users' TCP connections to {@code hosts} on any port but {@code allowedPort}.
     * Never throws: a fence that cannot be made is reported (logged, and in {@link #notInForce()}).
     */
    public static NetworkFence install(String zone, Isolation isolation, Collection<String> hosts, int allowedPort) {
        requireNonNull(zone, "zone");
        requireNonNull(isolation, "isolation");
        if (!isolation.separateUsers()) {
            return refused(zone, "containers do not run as users of their own (" + isolation.describe() + ")", hosts);
        }
        String users = UidPool.FIRST_UID + "-" + (UidPool.FIRST_UID + UidPool.SIZE - 1);
        try {
            if (!iptables(List.of("-n", "-L", CHAIN)).ok() && !iptables(List.of("-N", CHAIN)).ok() && !iptables(List.of("-n", "-L", CHAIN)).ok()) {
                return refused(zone, "iptables cannot make the chain " + CHAIN, hosts);
            }
            List<String> jump = List.of("OUTPUT", "-m", "owner", "--uid-owner", users, "-j", CHAIN);
            ensure(jump, true);
            for (String host : new LinkedHashSet<>(hosts)) {
                ensure(rule(host, allowedPort), false);
            }
            LOG.info("zone {}: containers may reach {} only on TCP port {} (iptables chain {} for users {})", zone,
                    String.join(", ", new LinkedHashSet<>(hosts)), allowedPort, CHAIN, users);
            return new NetworkFence(Optional.empty());
        } catch (IOException e) {
            return refused(zone, "iptables is not installed or cannot run (" + e.getMessage() + ")", hosts);
        }
    }

    private static NetworkFence refused(String zone, String why, Collection<String> hosts) {
        LOG.warn("zone {}: actions can reach every port of {}: no network fence, because {}", zone,
                hosts.stream().distinct().collect(Collectors.joining(", ")), why);
        return new NetworkFence(Optional.of(why));
    }

    /** The rule that refuses container users' TCP to {@code host} but on {@code allowedPort}. */
    static List<String> rule(String host, int allowedPort) {
        return List.of(CHAIN, "-d", host, "-p", "tcp", "!", "--dport", Integer.toString(allowedPort), "-j", "REJECT",
                "--reject-with", "tcp-reset");
    }

    /** Adds the rule unless it is there; returns whether this call added it. */
    static boolean ensure(List<String> rule, boolean first) throws IOException {
        List<String> check = new ArrayList<>(List.of("-C"));
        check.addAll(rule);
        if (iptables(check).ok()) {
            return false;
        }
        List<String> add = new ArrayList<>(first ? List.of("-I", rule.getFirst(), "1") : List.of("-A", rule.getFirst()));
        add.addAll(rule.subList(1, rule.size()));
        Exec.Result r = iptables(add);
        if (!r.ok()) {
            throw new IOException("iptables " + String.join(" ", add) + ": " + r.output());
        }
        return true;
    }

    static Exec.Result iptables(List<String> args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("iptables", "-w"));
        argv.addAll(args);
        return Exec.run(argv, TIMEOUT);
    }
}
