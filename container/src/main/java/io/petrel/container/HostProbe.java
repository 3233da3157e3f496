package io.petrel.container;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Finds out once what the machine offers to isolate containers: {@link Isolation.Host}. */
final class HostProbe {
    private static final Logger log = LoggerFactory.getLogger(HostProbe.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);
    private static final List<String> SEARCH_PATH = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");
    // The uid the bubblewrap probe runs as when we are root: "nobody" exists everywhere.
    private static final int PROBE_UID = 65534;

    private HostProbe() {}

    static Isolation.Host probe(Path cgroupRoot) {
        boolean root = effectiveUid() == 0;
        Optional<Path> setpriv = executable("setpriv");
        Optional<Path> setsid = executable("setsid");
        Optional<Path> bwrap = Optional.empty();
        List<String> bwrapExtraFlags = List.of();
        Optional<Path> bwrapFound = executable("bwrap");
        if (bwrapFound.isPresent()) {
            // --disable-userns (bubblewrap 0.8) keeps actions from making user namespaces of their own; older ones lack it.
            for (List<String> extra : List.of(List.of("--disable-userns"), List.<String>of())) {
                if (bwrapWorks(bwrapFound.get(), extra, root ? setpriv : Optional.empty())) {
                    bwrap = bwrapFound;
                    bwrapExtraFlags = extra;
                    break;
                }
            }
        }
        return new Isolation.Host(root, bwrap, bwrapExtraFlags, setpriv, setsid, cgroupV2(cgroupRoot),
                cgroupV1(cgroupRoot.resolve("memory"), "memory.limit_in_bytes"), cgroupV1(cgroupRoot.resolve("pids"), "pids.max"),
                executable("nice"));
    }

    /** The arguments of bubblewrap that come before the command: namespaces, environment and file system. */
    static List<String> bwrapArgs(Path bwrap, List<String> extraFlags, Map<String, String> env, List<Path> readOnly, Optional<Path> workDir) {
        List<String> args = new ArrayList<>(List.of(bwrap.toString(),
                "--unshare-user", "--uid", "65534", "--gid", "65534",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"));
        args.addAll(extraFlags);
        // The network stays shared: actions call Petrel's API and the outside world.
        args.addAll(List.of("--die-with-parent", "--new-session", "--clearenv"));
        env.forEach((name, value) -> args.addAll(List.of("--setenv", name, value)));
        args.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String top : List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")) {
            Path path = Path.of(top);
            try {
                if (Files.isSymbolicLink(path)) {
                    args.addAll(List.of("--symlink", Files.readSymbolicLink(path).toString(), top));
                }
                else if (Files.isDirectory(path)) {
                    args.addAll(List.of("--ro-bind", top, top));
                }
            }
            catch (IOException e) {
                // Not there: nothing to show.
            }
        }
        // /etc for resolv.conf, hosts, TLS certificates and the like; its secrets are root's and the sandbox is not.
        args.addAll(List.of("--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
        for (Path path : readOnly) {
            args.addAll(List.of("--ro-bind", path.toString(), path.toString()));
        }
        workDir.ifPresent(dir -> args.addAll(List.of("--bind", dir.toString(), dir.toString(), "--chdir", dir.toString())));
        return args;
    }

    static List<String> setprivArgs(Path setpriv, int uid) {
        return List.of(setpriv.toString(), "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--pdeathsig=KILL", "--");
    }

    private static boolean bwrapWorks(Path bwrap, List<String> extraFlags, Optional<Path> setpriv) {
        List<String> argv = new ArrayList<>();
        setpriv.ifPresent(path -> argv.addAll(setprivArgs(path, PROBE_UID)));
        argv.addAll(bwrapArgs(bwrap, extraFlags, Map.of("PATH", ContainerFactory.SYSTEM_PATH), List.of(), Optional.empty()));
        argv.add(executable("true").map(Path::toString).orElse("/bin/true"));
        try {
            Exec.Result result = Exec.run(argv, PROBE_TIMEOUT);
            if (!result.ok()) {
                log.info("bubblewrap {} does not work here{}: exit {}: {}", bwrap, extraFlags.isEmpty() ? "" : " with " + extraFlags,
                        result.exitCode(), result.output());
            }
            return result.ok();
        }
        catch (IOException e) {
            log.info("bubblewrap {} cannot be started: {}", bwrap, e.toString());
            return false;
        }
    }

    private static Optional<Path> cgroupV2(Path root) {
        Path controllers = root.resolve("cgroup.controllers");
        try {
            if (!Files.exists(controllers) || !List.of(Files.readString(controllers).trim().split("\\s+")).contains("memory")) {
                return Optional.empty();
            }
            Path petrel = Files.createDirectories(root.resolve(ContainerCgroup.PARENT));
            ContainerCgroup.enableControllers(root);
            ContainerCgroup.enableControllers(petrel);
            if (List.of(Files.readString(petrel.resolve("cgroup.subtree_control")).trim().split("\\s+")).contains("memory")) {
                return Optional.of(root);
            }
        }
        catch (IOException | RuntimeException e) {
            log.info("cgroup v2 at {} cannot be used: {}", root, e.toString());
        }
        return Optional.empty();
    }

    private static Optional<Path> cgroupV1(Path hierarchy, String controlFile) {
        if (!Files.isDirectory(hierarchy) || Files.exists(hierarchy.resolve("cgroup.controllers"))) {
            return Optional.empty();
        }
        try {
            Path petrel = Files.createDirectories(hierarchy.resolve(ContainerCgroup.PARENT));
            if (Files.exists(petrel.resolve(controlFile)) && Files.isWritable(petrel.resolve(controlFile))) {
                return Optional.of(hierarchy);
            }
        }
        catch (IOException | RuntimeException e) {
            log.debug("cgroup v1 hierarchy {} cannot be used: {}", hierarchy, e.toString());
        }
        return Optional.empty();
    }

    static Optional<Path> executable(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(SEARCH_PATH);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        }
        catch (IOException | RuntimeException e) {
            // Not Linux, or no /proc: assume the worst for privileges, the best for safety.
        }
        return -1;
    }
}
