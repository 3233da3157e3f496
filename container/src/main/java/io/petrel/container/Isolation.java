package io.petrel.container;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How containers are kept apart from Petrel, from each other and from the machine: a sandbox and a way to
 * enforce memory limits, chosen from what the {@link Host} offers. {@link ContainerFactory#detectIsolation}
 * picks the strongest of each; {@link #withSandbox} and {@link #withMemory} choose a weaker one (tests, or an
 * operator who must).
 *
 * @param sandbox what an action's processes can see and touch
 * @param memory  how the memory limit is enforced
 * @param host    what the machine was found to offer
 */
public record Isolation(Sandbox sandbox, Memory memory, Host host) {
    /** From strongest to weakest. */
    public enum Sandbox {
        /**
         * bubblewrap: own mount, pid, ipc and uts namespaces; only {@code /usr}, {@code /etc}, the runtime's
         * install roots and the launchers are visible (read-only), plus the container's own work directory. When
         * Petrel runs as root the sandbox also runs as a uid of its own, so files it can see stay protected by
         * their permissions ({@code /etc/shadow}).
         */
        BUBBLEWRAP,
        /** Petrel runs as root: each container runs as a uid of its own, its work directory mode 0700. */
        SEPARATE_USER,
        /** Own work directory and a clean environment only: actions run as Petrel's user. */
        NONE
    }

    /** From strongest to weakest. Never RLIMIT_AS: Node.js and the JVM reserve far more address space than they use. */
    public enum Memory {
        /** A cgroup v2 per container: memory.max, no swap, pids.max; OOM counted by memory.events. */
        CGROUP_V2,
        /** A v1 memory cgroup (and pids cgroup when mounted) per container; OOM counted by memory.oom_control. */
        CGROUP_V1,
        /** A thread sums the resident memory of each container's processes every 100 ms and kills it over the limit. */
        RSS_WATCHDOG
    }

    /**
     * What the machine offers, found once.
     *
     * @param root             whether Petrel runs as uid 0 (it can then give each container a uid of its own)
     * @param bwrap            a bubblewrap that works with the sandbox's options
     * @param bwrapExtraFlags  hardening flags this bubblewrap accepts ({@code --disable-userns} since 0.8)
     * @param setpriv          util-linux setpriv, to drop to a container's uid
     * @param setsid           util-linux setsid, to give an unsandboxed container a session of its own
     * @param cgroupV2         the root of a cgroup v2 hierarchy where the memory controller can be delegated to Petrel's cgroups
     * @param memoryV1         a writable cgroup v1 memory hierarchy
     * @param pidsV1           a writable cgroup v1 pids hierarchy
     * @param nice             coreutils nice, to run containers below the zone's own threads in CPU priority
     */
    public record Host(boolean root, Optional<Path> bwrap, List<String> bwrapExtraFlags, Optional<Path> setpriv,
                       Optional<Path> setsid, Optional<Path> cgroupV2, Optional<Path> memoryV1, Optional<Path> pidsV1,
                       Optional<Path> nice) {
        public Host {
            requireNonNull(nice, "nice");
            requireNonNull(bwrap, "bwrap");
            bwrapExtraFlags = List.copyOf(bwrapExtraFlags);
            requireNonNull(setpriv, "setpriv");
            requireNonNull(setsid, "setsid");
            requireNonNull(cgroupV2, "cgroupV2");
            requireNonNull(memoryV1, "memoryV1");
            requireNonNull(pidsV1, "pidsV1");
        }

        /** A machine that offers nothing: every container gets {@link Sandbox#NONE} and {@link Memory#RSS_WATCHDOG}. */
        public static Host bare() {
            return new Host(false, Optional.empty(), List.of(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty(), Optional.empty());
        }

        public boolean offers(Sandbox sandbox) {
            return switch (sandbox) {
                case BUBBLEWRAP -> bwrap.isPresent();
                case SEPARATE_USER -> root && setpriv.isPresent();
                case NONE -> true;
            };
        }

        public boolean offers(Memory memory) {
            return switch (memory) {
                case CGROUP_V2 -> cgroupV2.isPresent();
                case CGROUP_V1 -> memoryV1.isPresent();
                case RSS_WATCHDOG -> true;
            };
        }
    }

    public Isolation {
        requireNonNull(sandbox, "sandbox");
        requireNonNull(memory, "memory");
        requireNonNull(host, "host");
        if (!host.offers(sandbox)) {
            throw new IllegalArgumentException("this machine does not offer the sandbox " + sandbox);
        }
        if (!host.offers(memory)) {
            throw new IllegalArgumentException("this machine does not offer the memory enforcement " + memory);
        }
    }

    /** The strongest sandbox and memory enforcement the host offers. */
    public static Isolation strongest(Host host) {
        Sandbox sandbox = List.of(Sandbox.values()).stream().filter(host::offers).findFirst().orElseThrow();
        Memory memory = List.of(Memory.values()).stream().filter(host::offers).findFirst().orElseThrow();
        return new Isolation(sandbox, memory, host);
    }

    public Isolation withSandbox(Sandbox sandbox) {
        return new Isolation(sandbox, memory, host);
    }

    public Isolation withMemory(Memory memory) {
        return new Isolation(sandbox, memory, host);
    }

    /** Whether each container runs as a uid of its own (root only; with bubblewrap, the uid outside its user namespace). */
    public boolean separateUsers() {
        return sandbox != Sandbox.NONE && host.root() && host.setpriv().isPresent();
    }

    /** One line for logs and status pages. */
    public String describe() {
        return "sandbox=" + sandbox + " memory=" + memory + " separateUsers=" + separateUsers()
                + (sandbox == Sandbox.BUBBLEWRAP ? " bwrap=" + host.bwrap().orElseThrow() : "");
    }
}
