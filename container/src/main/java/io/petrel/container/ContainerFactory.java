package io.petrel.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Starts the containers of one zone: each a runtime launcher in its own work directory
 * ({@code <containersDir>/<container id>}), with a clean environment, under the sandbox and memory enforcement of
 * the {@link Isolation}, in cgroups {@code <hierarchy>/petrel/<zone>/<container id>}. What a JVM of this zone left
 * behind when it was killed (cgroups, work directories, running processes) is removed when the factory starts.
 *
 * <p>It decides nothing about pools, placement or the store: it starts what it is asked to, and every container
 * is closed by whoever started it (or by {@link #close}).
 */
public final class ContainerFactory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContainerFactory.class);

    static final String SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";
    /** Processes and threads a container may have: enough for a JVM, few enough to stop a fork bomb. */
    static final int MAX_PIDS = 256;
    /** Ten steps below the zone: under CFS a zone thread then outweighs a container process about nine to one. */
    static final int NICENESS = 10;
    static final Duration WATCHDOG_INTERVAL = Duration.ofMillis(100);
    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final long MIB = 1024 * 1024;
    // The container's shell joins its cgroups, opens the answer FIFO as fd 3 and becomes the launcher, so the
    // interpreter never runs a single instruction outside its limits. Arguments: fifo, n, n cgroup.procs files, argv.
    private static final String JOIN_AND_EXEC = """
            f=$1; n=$2; shift 2
            while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done
            exec "$@" 3>"$f"
            """;

    private final RuntimeCatalog catalog;
    private final Path containersDir;
    private final Isolation isolation;
    private final String zone;
    private final List<Path> zoneCgroups;
    private final Optional<UidPool> uids;
    private final ObjectMapper mapper = new ObjectMapper();
    private final ScheduledThreadPoolExecutor scheduler;
    // Processes are started from this one thread, which lives as long as the factory: Linux sends the
    // parent-death signal (bubblewrap's --die-with-parent, setpriv's --pdeathsig) when the *thread* that
    // started a process ends, so a short-lived caller thread would kill its containers with it.
    private final ExecutorService spawner;
    private final Optional<RssWatchdog> watchdog;
    private final Set<ProcessContainer> live = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param catalog       the kinds this machine runs and how to start their launchers
     * @param containersDir where work directories go; created if missing. With separate users, it and its parents
     *                      must be searchable by other users (they must not be inside a mode-0700 data folder)
     * @param isolation     from {@link #detectIsolation}
     * @param zone          this zone's name, which names its cgroups
     * @throws UncheckedIOException when the containers folder or the zone's cgroups cannot be set up
     */
    public ContainerFactory(RuntimeCatalog catalog, Path containersDir, Isolation isolation, String zone) {
        this.catalog = requireNonNull(catalog, "catalog");
        this.containersDir = requireNonNull(containersDir, "containersDir").toAbsolutePath().normalize();
        this.isolation = requireNonNull(isolation, "isolation");
        this.zone = requireNonNull(zone, "zone");
        if (!ZONE.matcher(zone).matches()) {
            throw new IllegalArgumentException("a zone name is letters, digits, '_', '.' and '-': " + zone);
        }
        checkNothingExposes(catalog, this.containersDir);
        try {
            Files.createDirectories(this.containersDir);
            if (isolation.separateUsers()) {
                // Container uids must reach their own work directory, but not list the others.
                Files.setPosixFilePermissions(this.containersDir, PosixFilePermissions.fromString("rwx--x--x"));
                requireReachable(this.containersDir, "the containers folder");
                requireReachable(catalog.launcherDir(), "the launchers folder");
            }
            else {
                Files.setPosixFilePermissions(this.containersDir, PosixFilePermissions.fromString("rwx------"));
            }
            this.zoneCgroups = ContainerCgroup.prepareZone(isolation, zone);
            List<String> staleCgroups = ContainerCgroup.removeStale(zoneCgroups);
            List<String> staleDirs = removeStaleWorkDirs();
            if (!staleCgroups.isEmpty() || !staleDirs.isEmpty()) {
                log.info("zone={} removed what a previous JVM left: cgroups {} work directories {}", zone, staleCgroups, staleDirs);
            }
            this.uids = isolation.separateUsers()
                    ? Optional.of(new UidPool(UidPool.DEFAULT_CLAIMS, UidPool.FIRST_UID, UidPool.SIZE, this::killAllOfUid))
                    : Optional.empty();
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot prepare containers of zone " + zone + " in " + containersDir, e);
        }
        this.scheduler = new ScheduledThreadPoolExecutor(1, runnable -> Thread.ofPlatform().daemon().name("container-timer-" + zone).unstarted(runnable));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.spawner = Executors.newSingleThreadExecutor(runnable -> Thread.ofPlatform().daemon().name("container-spawner-" + zone).unstarted(runnable));
        this.watchdog = isolation.memory() == Isolation.Memory.RSS_WATCHDOG
                ? Optional.of(new RssWatchdog(WATCHDOG_INTERVAL, zone))
                : Optional.empty();
        log.info("zone={} container factory ready: {} containers in {} kinds {}", zone, isolation.describe(), this.containersDir,
                catalog.kinds().stream().map(RuntimeKind::kind).toList());
    }

    /** The strongest isolation this machine offers, probed once (this runs bubblewrap); logged at INFO. */
    public static Isolation detectIsolation(Path cgroupRoot) {
        Isolation isolation = Isolation.strongest(HostProbe.probe(requireNonNull(cgroupRoot, "cgroupRoot")));
        log.info("container isolation: {}", isolation.describe());
        if (isolation.host().root() && isolation.host().setpriv().isEmpty()) {
            log.warn("no setpriv (util-linux): containers run as root's uid outside their sandbox, and can read what root can of /etc");
        }
        return isolation;
    }

    /** {@link #detectIsolation(Path)} with the usual {@code /sys/fs/cgroup}. */
    public static Isolation detectIsolation() {
        return detectIsolation(Path.of("/sys/fs/cgroup"));
    }

    public Isolation isolation() {
        return isolation;
    }

    public String zone() {
        return zone;
    }

    public Path containersDir() {
        return containersDir;
    }

    /**
     * Starts a container for a kind, ready for its init: the launcher starts while the caller waits for an action,
     * which is what makes a prewarmed container warm.
     *
     * @param kind        a kind or alias the catalog knows ({@code nodejs:20}, {@code python:default})
     * @param memoryMb    the memory limit
     * @param concurrency how many activations may run at once (more than 1 only for kinds that allow it)
     * @param env         container-wide variables such as {@code __OW_API_HOST}, on top of a clean environment
     *                    ({@code PATH}, {@code HOME} and {@code TMPDIR} in the work directory, {@code LANG=C.UTF-8})
     * @throws IllegalArgumentException for an unknown kind or impossible limits
     * @throws IOException when the work directory, cgroups or process cannot be made
     */
    public ActionContainer start(String kind, int memoryMb, int concurrency, Map<String, String> env) throws IOException {
        requireNonNull(kind, "kind");
        requireNonNull(env, "env");
        if (closed.get()) {
            throw new IllegalStateException("the container factory of zone " + zone + " is closed");
        }
        RuntimeKind runtime = catalog.resolve(kind).orElseThrow(() -> new IllegalArgumentException("unknown kind: " + kind));
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memoryMb must be positive: " + memoryMb);
        }
        if (concurrency < 1 || (concurrency > 1 && !runtime.concurrent())) {
            throw new IllegalArgumentException("kind " + runtime.kind() + " cannot run " + concurrency + " activations at once");
        }
        env.forEach(ContainerFactory::checkVariable);

        OptionalInt uid = OptionalInt.empty();
        Path workDir = null;
        Optional<ContainerCgroup> cgroup = Optional.empty();
        boolean handedOver = false;
        try {
            if (uids.isPresent()) {
                uid = OptionalInt.of(uids.get().claim());
            }
            String id;
            while (true) {
                id = Owner.currentPid() + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
                try {
                    workDir = Files.createDirectory(containersDir.resolve(id),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
                catch (FileAlreadyExistsException e) {
                    continue;
                }
                try {
                    cgroup = isolation.memory() == Isolation.Memory.RSS_WATCHDOG
                            ? Optional.empty()
                            : Optional.of(ContainerCgroup.create(zoneCgroups, isolation.memory() == Isolation.Memory.CGROUP_V2, id,
                                    memoryMb * MIB, MAX_PIDS));
                    break;
                }
                catch (FileAlreadyExistsException e) {
                    Files.deleteIfExists(workDir);
                    workDir = null;
                }
            }
            Path tmp = Files.createDirectory(workDir.resolve("tmp"));
            if (uid.isPresent()) {
                ProcessContainer.chownTree(workDir, uid.getAsInt());
            }
            Path fifo = workDir.resolve(".petrel-answers");
            Exec.Result mkfifo = Exec.run(List.of("mkfifo", "-m", "600", fifo.toString()), Duration.ofSeconds(10));
            if (!mkfifo.ok()) {
                throw new IOException("mkfifo " + fifo + " failed: " + mkfifo.output());
            }
            if (uid.isPresent()) {
                // The JVM launcher cannot use an inherited fd and reopens /proc/self/fd/3: the FIFO must be its uid's.
                ProcessContainer.chownTree(fifo, uid.getAsInt());
            }

            Map<String, String> actionEnv = new LinkedHashMap<>();
            actionEnv.put("PATH", SYSTEM_PATH);
            actionEnv.put("HOME", workDir.toString());
            actionEnv.put("LANG", "C.UTF-8");
            actionEnv.put("TMPDIR", tmp.toString());
            actionEnv.putAll(env);
            if (concurrency > 1) {
                actionEnv.put("__OW_ALLOW_CONCURRENT", "true");
            }
            boolean ownSession = isolation.sandbox() != Isolation.Sandbox.BUBBLEWRAP && isolation.host().setsid().isPresent();
            List<String> argv = argv(runtime, memoryMb, workDir, fifo, cgroup, uid, actionEnv, ownSession);
            ProcessBuilder builder = new ProcessBuilder(argv).directory(workDir.toFile());
            builder.environment().clear();
            builder.environment().putAll(isolation.sandbox() == Isolation.Sandbox.BUBBLEWRAP ? Map.of("PATH", SYSTEM_PATH) : actionEnv);
            Process process = spawn(builder);

            OptionalInt claimed = uid;
            Runnable release = () -> claimed.ifPresent(value -> uids.orElseThrow().release(value));
            ProcessContainer container;
            try {
                container = new ProcessContainer(
                        new ProcessContainer.Parts(id, zone, runtime, memoryMb, concurrency, workDir, fifo, process, cgroup, uid, ownSession, release),
                        new ProcessContainer.Services(mapper, scheduler, watchdog, live::remove));
            }
            catch (RuntimeException e) {
                process.destroyForcibly();
                throw e;
            }
            // From here on the container owns its process, cgroups, work directory and uid, and its close frees them.
            handedOver = true;
            live.add(container);
            container.start();
            if (closed.get()) {
                // The factory was closed while this one started: it must not outlive it.
                container.close();
                throw new IllegalStateException("the container factory of zone " + zone + " is closed");
            }
            log.info("zone={} container={} started kind={} memoryMb={} concurrency={} pid={}{}", zone, id, runtime.kind(), memoryMb,
                    concurrency, process.pid(), uid.isPresent() ? " uid=" + uid.getAsInt() : "");
            return container;
        }
        catch (IOException | RuntimeException e) {
            if (handedOver) {
                throw e;
            }
            cgroup.ifPresent(ContainerCgroup::remove);
            if (workDir != null) {
                try {
                    ProcessContainer.deleteTree(workDir);
                }
                catch (IOException ignored) {
                    // The next factory of this zone removes it.
                }
            }
            uid.ifPresent(value -> uids.orElseThrow().release(value));
            throw e;
        }
    }

    private List<String> argv(RuntimeKind runtime, int memoryMb, Path workDir, Path fifo, Optional<ContainerCgroup> cgroup,
                              OptionalInt uid, Map<String, String> actionEnv, boolean ownSession) {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", JOIN_AND_EXEC, "sh", fifo.toString()));
        List<Path> join = cgroup.map(ContainerCgroup::joinFiles).orElse(List.of());
        argv.add(Integer.toString(join.size()));
        join.forEach(file -> argv.add(file.toString()));
        // Actions run below the zone's own threads: on a busy machine a tenant's code must not take the CPU
        // that the store's heartbeats and appends need (a starved follower falls behind and the zone stops
        // answering). The niceness is inherited by everything the action starts.
        isolation.host().nice().ifPresent(nice -> argv.addAll(List.of(nice.toString(), "-n", Integer.toString(NICENESS))));
        if (ownSession) {
            argv.addAll(List.of(isolation.host().setsid().orElseThrow().toString(), "-w"));
        }
        if (uid.isPresent()) {
            argv.addAll(HostProbe.setprivArgs(isolation.host().setpriv().orElseThrow(), uid.getAsInt()));
        }
        if (isolation.sandbox() == Isolation.Sandbox.BUBBLEWRAP) {
            argv.addAll(HostProbe.bwrapArgs(isolation.host().bwrap().orElseThrow(), isolation.host().bwrapExtraFlags(), actionEnv,
                    readOnlyRoots(runtime), Optional.of(workDir)));
            argv.add("--");
        }
        argv.addAll(catalog.command(runtime, memoryMb));
        return argv;
    }

    // What a sandbox must see besides /usr and /etc: the interpreter's install roots and the launchers.
    private List<Path> readOnlyRoots(RuntimeKind runtime) {
        List<Path> roots = new ArrayList<>();
        for (Path root : runtime.installRoots()) {
            Path path = root.toAbsolutePath().normalize();
            if (!path.startsWith("/usr") && !path.startsWith("/etc") && Files.exists(path) && !roots.contains(path)) {
                roots.add(path);
            }
        }
        Path launchers = catalog.launcherDir().toAbsolutePath().normalize();
        if (!roots.contains(launchers)) {
            roots.add(launchers);
        }
        return roots;
    }

    private Process spawn(ProcessBuilder builder) throws IOException {
        try {
            return spawner.submit(builder::start).get();
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot start a container process", e.getCause());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting a container process", e);
        }
    }

    /** The containers started and not yet closed. */
    public List<ActionContainer> containers() {
        return List.copyOf(live);
    }

    /** Closes every container it started and stops its threads. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List.copyOf(live).forEach(ProcessContainer::close);
        scheduler.shutdownNow();
        spawner.shutdown();
        watchdog.ifPresent(RssWatchdog::close);
        log.info("zone={} container factory closed", zone);
    }

    // Claiming the uid of a container of a dead JVM: whatever still runs as it must go first.
    private void killAllOfUid(int uid) {
        for (int attempt = 0; attempt < 50; attempt++) {
            Set<Long> pids = ProcTable.members(ProcTable.snapshot(), -1, OptionalInt.of(uid), false);
            if (pids.isEmpty()) {
                return;
            }
            log.info("zone={} killing {} processes left running as uid {}", zone, pids.size(), uid);
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            try {
                Thread.sleep(10);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private List<String> removeStaleWorkDirs() throws IOException {
        List<String> removed = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(containersDir, Files::isDirectory)) {
            for (Path dir : dirs) {
                Matcher matcher = ContainerCgroup.ID.matcher(dir.getFileName().toString());
                if (matcher.matches()) {
                    BasicFileAttributes attributes = Files.readAttributes(dir, BasicFileAttributes.class);
                    if (!Owner.alive(Long.parseLong(matcher.group(1)), attributes.lastModifiedTime().toInstant())) {
                        ProcessContainer.deleteTree(dir);
                        removed.add(dir.getFileName().toString());
                    }
                }
            }
        }
        return removed;
    }

    // Binding a folder that holds the work directories into a sandbox would show every container to every other.
    private static void checkNothingExposes(RuntimeCatalog catalog, Path containersDir) {
        List<Path> exposed = new ArrayList<>();
        exposed.add(catalog.launcherDir());
        catalog.kinds().forEach(kind -> exposed.addAll(kind.installRoots()));
        for (Path path : exposed) {
            Path normalized = path.toAbsolutePath().normalize();
            if (containersDir.startsWith(normalized) || normalized.startsWith(containersDir)) {
                throw new IllegalArgumentException("the containers folder " + containersDir + " must be apart from " + normalized
                        + ", which every sandbox sees");
            }
        }
    }

    private static void requireReachable(Path dir, String what) throws IOException {
        for (Path path = dir.toAbsolutePath().normalize(); path != null; path = path.getParent()) {
            if (!Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IOException(what + " " + dir + " must be reachable by the containers' users, but " + path
                        + " is not searchable by others (mode o+x)");
            }
        }
    }

    private static void checkVariable(String name, String value) {
        requireNonNull(name, "variable name");
        requireNonNull(value, "value of " + name);
        if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0 || value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a valid environment variable: " + name);
        }
    }
}
