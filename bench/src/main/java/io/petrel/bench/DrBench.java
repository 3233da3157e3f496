package io.petrel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * Disaster recovery between two named regions on this machine ({@code east} and {@code west}, three
 * zone processes each, sharing one witness backup target), as {@code petrel up --region} and
 * {@code petrel region failback} run them:
 *
 * <ol>
 *   <li><b>Standby lag</b>: east is the primary, west its standby. An open-loop writer stores new keys
 *   straight into east's replicated store ({@code --writes store}, the default: {@link DrStoreWriter})
 *   or PUTs new actions on east's zone APIs ({@code --writes api}) at {@code --rate} for
 *   {@code --lag-seconds}; every 250 ms the benchmark reads
 *   west's leader's {@code /admin/v1/dr} ({@code lagEntries}, {@code lagMillis}) and, as the baseline
 *   in the same run, east's leader's backup status (the archive's RPO and lag, what the
 *   {@code petrel_backup_*} gauges show): the standby follows the archive, so it cannot be less
 *   behind than it.</li>
 *   <li><b>Failovers</b>, {@code --failovers} times: the writer (the same mode) runs on the current primary for
 *   {@code --round-seconds}, then every process of the primary (zones and gateways) gets SIGKILL. The standby notices
 *   after {@code --failover-ms}, promotes itself, and the benchmark probes it with one write every
 *   100 ms. RTO: kill to the first write it accepts. RPO: the last write the dead primary acknowledged
 *   to the newest acknowledged write the new primary holds (read back by name, in the writer's mode: from
 *   the new primary's store in store mode). The probes go through the zone APIs in both modes: RTO is
 *   when a tenant's client can write again. Then the old primary
 *   is started again ({@code petrel up}, it comes back demoted), failed back as a standby of the new
 *   one ({@code petrel region failback}), and the roles are swapped for the next round.</li>
 * </ol>
 *
 * <p>The {@code petrel} commands run as their own processes with the benchmark's {@code petrel.home},
 * exactly as a user's would, but through {@code java -cp <cli class path>} rather than
 * {@code ./petrel}: the launcher rebuilds when a source file is newer than its build, and on a machine
 * where someone edits the tree that would rebuild (and replace the zones' jars) in the middle of a round.
 */
@Command(name = "dr-bench", mixinStandardHelpOptions = true,
        description = "Measure a standby region's lag and the RPO and RTO of failovers between two local named regions.")
public final class DrBench implements Callable<Integer> {

    @Option(names = "--home", required = true, paramLabel = "DIR", description = "the benchmark's own petrel.home (regions, witness target)")
    Path home;

    @Option(names = "--cli-classpath", required = true, paramLabel = "CP", description = "class path of the petrel command line (cli/target)")
    String cliClasspath;

    @Option(names = "--java", paramLabel = "FILE", description = "java to run petrel with (default: this JVM's)")
    String javaCommand;

    /** Where the writer's writes go; a write of either mode ends in the same store commit. */
    enum Writes {
        /** {@code PUT} of an action through the zones' OpenWhisk APIs ({@link DrWriter.Api}). */
        API,
        /** A {@code Put} straight into the region's replicated store ({@link DrStoreWriter}). */
        STORE
    }

    @Option(names = "--writes", defaultValue = "store", paramLabel = "api|store",
            description = "store: writes straight into the primary's replicated store; api: PUTs of actions through its zone APIs "
                    + "(both phases; default ${DEFAULT-VALUE})")
    Writes writes;

    @Option(names = "--rate", defaultValue = "1000", description = "writes/s the writer offers (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--lag-seconds", defaultValue = "60", description = "how long the standby's lag is measured (default ${DEFAULT-VALUE})")
    int lagSeconds;

    @Option(names = "--warmup-seconds", defaultValue = "10", description = "writes before the lag is measured, for the JIT (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--failovers", defaultValue = "10", description = "failovers to measure (default ${DEFAULT-VALUE})")
    int failovers;

    @Option(names = "--failover-ms", defaultValue = "5000",
            description = "how long a standby waits for a lost primary before it promotes itself: the detection time (default ${DEFAULT-VALUE})")
    long failoverMs;

    @Option(names = "--round-seconds", defaultValue = "10", description = "writes on the primary before each kill (default ${DEFAULT-VALUE})")
    int roundSeconds;

    @Option(names = "--max-outstanding", defaultValue = "128", description = "unanswered writes above which the writer drops sends (default ${DEFAULT-VALUE})")
    int maxOutstanding;

    @Option(names = "--takeover-timeout-seconds", defaultValue = "120",
            description = "after the failover time, how long the standby may take to accept a write before the run fails (default ${DEFAULT-VALUE})")
    int takeoverTimeoutSeconds;

    @Option(names = "--east-prefix", defaultValue = "127.67", description = "loopback prefix of region east (default ${DEFAULT-VALUE})")
    String eastPrefix;

    @Option(names = "--west-prefix", defaultValue = "127.68", description = "loopback prefix of region west (default ${DEFAULT-VALUE})")
    String westPrefix;

    @Option(names = "--command", paramLabel = "TEXT", description = "the command line that ran the benchmark, for the report")
    String command;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the Markdown report here")
    Path report;

    /** The lease every zone of a primary holds ({@code dr.lease.ms}'s default): a failover time shorter than it is refused by the zones. */
    private static final long LEASE_MS = 3000;
    /** Consecutive acknowledged writes found present below the newest present one before the read-back stops looking for holes. */
    private static final int VERIFY_WINDOW = 500;
    private static final int READ_BACK_PARALLELISM = 16;
    /** Seconds `up` and `failback` wait for the zones to be ready: more than their 90 and 120 s defaults, for a loaded machine. */
    private static final String READY_TIMEOUT = "240";
    private static final Pattern UNREACHABLE = Pattern.compile("promoting region \\S+ to epoch \\d+ \\(region \\S+ unreachable for (\\d+) ms");
    private static final Pattern TOOK_OVER = Pattern.compile(
            "took over from region \\S+ at entry \\d+ of cluster \\S+ in (\\d+) ms \\(fencing wait (\\d+) ms; (\\d+) entries archived after the claim\\)");
    private static final Pattern FAILBACK_LOST = Pattern.compile("applied (\\d+) write entries after entry (\\d+)");

    private final List<String> notes = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new DrBench()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    /** The standby's lag and the archive's, sampled together every 250 ms under the writer. */
    record LagResult(DrWriter.Result writes, long[] lagMillis, long[] lagEntries, int lagUnknown, long[] archiveRpoMillis, long[] archiveLagMillis,
                     long[] unarchivedEntries, int archiveUnknown, int samples, long[] visibleMillis, int neverVisible, CpuUse primaryCpu,
                     CpuUse standbyCpu, TimeWindow window, String loadAverage) {
        LagResult {
            requireNonNull(writes, "writes");
            requireNonNull(window, "window");
            requireNonNull(primaryCpu, "primaryCpu");
            requireNonNull(standbyCpu, "standbyCpu");
        }
    }

    /** What the standby did after the kill, by {@link System#nanoTime()} (-1: not seen). */
    record Takeover(long detectedNanos, long primaryNanos, long acceptedNanos, int refusedProbes, String refusals) {
        Takeover {
            requireNonNull(refusals, "refusals");
        }
    }

    /** Which acknowledged writes the new primary holds: the newest one it has, those after it (lost) and holes before it. */
    record ReadBack(long checked, long newestPresentSeq, long lost, long holes, double rpoSeconds) {
    }

    /** One failover, from the kill of {@code from} to {@code to} taking writes, and the way back to a pair. */
    record Round(int n, String from, String to, long failoverMs, DrWriter.Result writes, TimeWindow window, String loadAtKill,
                 double killMillis, double lastAckBeforeKillMillis, double detectedSeconds, double primarySeconds, double rtoSeconds,
                 int refusedProbes, String refusals, ReadBack readBack, long unreachableMsLogged, long promotionMsLogged, long fencingWaitMsLogged,
                 double restartSeconds, double failbackSeconds, long failbackReportedEntries) {
        Round {
            requireNonNull(from, "from");
            requireNonNull(to, "to");
            requireNonNull(writes, "writes");
            requireNonNull(window, "window");
            requireNonNull(readBack, "readBack");
            requireNonNull(refusals, "refusals");
        }

        /** RTO less the failover time the standby waits by design: what the issue calls "after detection". */
        double rtoAfterDetection() {
            return rtoSeconds - failoverMs / 1000.0;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (rate < 1 || lagSeconds < 1 || failovers < 0 || roundSeconds < 1 || warmupSeconds < 0 || maxOutstanding < 1) {
            throw new IllegalArgumentException("--rate, --lag-seconds, --round-seconds and --max-outstanding must be positive, --failovers and "
                    + "--warmup-seconds not negative");
        }
        if (failoverMs < LEASE_MS) {
            throw new IllegalArgumentException("--failover-ms must be at least the primary's lease (dr.lease.ms, " + LEASE_MS
                    + " ms): the zones refuse a shorter one");
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
        DrRegions regions = new DrRegions(home, cliCommand(), http);
        String loadBefore = loadAverage();
        Instant started = Instant.now();
        List<Round> rounds = new ArrayList<>();
        LagResult lag = null;
        double[] startSeconds = new double[2];
        try {
            startPair(regions, startSeconds);
            lag = lag(regions, http);
            String primary = "east";
            String standby = "west";
            for (int n = 1; n <= failovers; n++) {
                rounds.add(failover(regions, http, n, primary, standby));
                String t = primary;
                primary = standby;
                standby = t;
            }
        } catch (Exception e) {
            // What was measured before the failure is real too: it goes into the report, marked as a failed run.
            notes.add("**The run failed** after what is above: " + e);
            writeReport(markdown(lag, rounds, startSeconds, started, loadBefore));
            throw e;
        }
        writeReport(markdown(lag, rounds, startSeconds, started, loadBefore));
        return 0;
    }

    /** {@code java ... io.petrel.cli.PetrelMain}: the flags {@code ./petrel} runs the command line with. */
    private List<String> cliCommand() {
        List<String> c = new ArrayList<>(List.of(javaCommand != null ? javaCommand : ProcessHandle.current().info().command().orElse("java"),
                "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 23) {
            c.add("--sun-misc-unsafe-memory-access=allow");
        }
        c.addAll(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dpetrel.home=" + home.toAbsolutePath(), "-cp", cliClasspath,
                "io.petrel.cli.PetrelMain"));
        return c;
    }

    // ------------------------------------------------------------------------------------------
    // The pair

    private void startPair(DrRegions regions, double[] seconds) throws Exception {
        Files.createDirectories(home);
        // With the gateways `up` gives a region (idle here: the writer goes to the zone APIs), not `--gateways 0`: a named region
        // started again without gateways gets the two a new region has, so the rounds after the first would differ from it.
        // --failover-ms on the primary too: it applies once a failback makes east a standby, so every round waits the same.
        seconds[0] = regions.petrel(Duration.ofMinutes(5), "up", "--region", "east", "--failover-ms", String.valueOf(failoverMs),
                "--ip-prefix", eastPrefix, "--timeout", READY_TIMEOUT).seconds();
        RegionLayout east = regions.layout("east");
        regions.awaitLeader(east, s -> "PRIMARY".equals(s.path("role").asText()) && s.path("writable").asBoolean(), Duration.ofSeconds(60),
                "region east is a writable primary");
        seconds[1] = regions.petrel(Duration.ofMinutes(5), "up", "--region", "west", "--standby-of", "east", "--failover-ms",
                String.valueOf(failoverMs), "--ip-prefix", westPrefix, "--timeout", READY_TIMEOUT).seconds();
        awaitPair(regions, regions.layout("east"), regions.layout("west"));
    }

    /** Until the primary takes writes and the standby follows it with a known lag and has heard from it lately. */
    private static void awaitPair(DrRegions regions, RegionLayout primary, RegionLayout standby) throws InterruptedException {
        regions.awaitLeader(primary, s -> "PRIMARY".equals(s.path("role").asText()) && s.path("writable").asBoolean(), Duration.ofSeconds(120),
                "region " + primary.region() + " is a writable primary");
        regions.awaitLeader(standby, s -> "STANDBY".equals(s.path("role").asText()) && primary.region().equals(s.path("primary").asText())
                        && s.path("lagEntries").asLong(-1) >= 0 && s.path("primarySeenMsAgo").asLong(-1) >= 0
                        && s.path("primarySeenMsAgo").asLong() < 3000 && s.path("failoverInMs").asLong(-1) >= 0, Duration.ofSeconds(180),
                "region " + standby.region() + " is a standby following " + primary.region() + " with automatic failover");
    }

    /**
     * A client of a region in the run's mode. {@code layout} must be loaded just before ({@link DrRegions#layout}): a failback
     * gives a region a new cluster id, so a store client is never kept from one round to the next. The caller closes it.
     */
    private DrWriter.Endpoint endpoint(DrRegions regions, HttpClient http, RegionLayout layout) {
        return switch (writes) {
            case API -> new DrWriter.Api(http, regions, layout);
            case STORE -> DrStoreWriter.connect(layout);
        };
    }

    private String mode() {
        return writes.name().toLowerCase(Locale.ROOT);
    }

    // ------------------------------------------------------------------------------------------
    // Standby lag

    private LagResult lag(DrRegions regions, HttpClient http) throws Exception {
        RegionLayout east = regions.layout("east");
        RegionLayout west = regions.layout("west");
        // Clients for this phase only, closed when it ends.
        try (DrWriter.Endpoint onEast = endpoint(regions, http, east); DrWriter.Endpoint onWest = endpoint(regions, http, west)) {
            return lag(regions, east, west, onEast, onWest);
        }
    }

    private LagResult lag(DrRegions regions, RegionLayout east, RegionLayout west, DrWriter.Endpoint onEast, DrWriter.Endpoint onWest)
            throws Exception {
        if (warmupSeconds > 0) {
            System.err.printf(Locale.ROOT, "warming up: %d s of %s writes at %,d/s on east%n", warmupSeconds, mode(), rate);
            DrWriter warm = new DrWriter(onEast, "warm", rate, maxOutstanding);
            warm.start();
            Thread.sleep(warmupSeconds * 1000L);
            System.err.println("warm-up: " + warm.finish(Duration.ofSeconds(15)).summary());
        }
        System.err.printf(Locale.ROOT, "standby lag: %d s of %s writes at %,d/s on east, west's and east's status every 250 ms%n", lagSeconds,
                mode(), rate);
        CpuMeter eastCpu = new CpuMeter(regions.zonePids(east));
        CpuMeter westCpu = new CpuMeter(regions.zonePids(west));
        CpuMeter.Snapshot e0 = eastCpu.now();
        CpuMeter.Snapshot w0 = westCpu.now();
        List<Long> lagMillis = new ArrayList<>();
        List<Long> lagEntries = new ArrayList<>();
        List<Long> rpo = new ArrayList<>();
        List<Long> archiveLag = new ArrayList<>();
        List<Long> unarchived = new ArrayList<>();
        int lagUnknown = 0;
        int archiveUnknown = 0;
        int samples = 0;
        Instant from = Instant.now();
        DrWriter writer = new DrWriter(onEast, "lag", rate, maxOutstanding);
        writer.start();
        Visibility visibility = new Visibility(onWest, writer);
        visibility.start();
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(lagSeconds).toNanos();
        // On a fixed schedule, so that a slow answer does not thin out the samples where the lag is worst.
        for (long next = start + Duration.ofMillis(250).toNanos(); next <= end; next += Duration.ofMillis(250).toNanos()) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            samples++;
            Optional<JsonNode> s = regions.drLeader(west);
            if (s.isPresent() && s.get().path("lagMillis").asLong(-1) >= 0 && s.get().path("lagEntries").asLong(-1) >= 0) {
                lagMillis.add(s.get().path("lagMillis").asLong());
                lagEntries.add(s.get().path("lagEntries").asLong());
            } else {
                lagUnknown++;
            }
            Optional<JsonNode> b = regions.backupLeader(east);
            if (b.isPresent() && b.get().path("rpoSeconds").isNumber()) {
                rpo.add(Math.round(b.get().path("rpoSeconds").asDouble() * 1000));
                archiveLag.add(b.get().path("archiveLagMillis").asLong());
                unarchived.add(b.get().path("unarchivedEntries").asLong());
            } else {
                archiveUnknown++;
            }
        }
        visibility.stop();
        DrWriter.Result w = writer.finish(Duration.ofSeconds(15));
        Instant to = Instant.now();
        CpuUse ec = eastCpu.since(e0);
        CpuUse wc = westCpu.since(w0);
        System.err.println("standby lag writes: " + w.summary());
        return new LagResult(w, sorted(lagMillis), sorted(lagEntries), lagUnknown, sorted(rpo), sorted(archiveLag), sorted(unarchived),
                archiveUnknown, samples, sorted(visibility.millis()), visibility.neverVisible(), ec, wc, new TimeWindow(from, to), loadAverage());
    }

    /**
     * The standby's staleness as a client sees it, next to what the zones report: two readers each
     * take the newest write east has acknowledged (one the other reader did not take) and read it on
     * west every 50 ms until it is there (in the writer's mode: through west's zone APIs, or from its store),
     * recording the time from its acknowledgement (about 40 reads/s
     * in all: few enough not to take the standby's CPU from the replay it measures). The zones' own
     * {@code lagMillis} only counts from the archive on (it is 0 whenever the standby has applied all
     * that is archived); this includes the wait for the archive, so it is the number to hold against
     * the archive's RPO.
     */
    private static final class Visibility {
        private static final int READERS = 2;
        private static final Duration GIVE_UP = Duration.ofSeconds(30);
        private final DrWriter.Endpoint standby;
        private final DrWriter writer;
        private final List<Long> millis = Collections.synchronizedList(new ArrayList<>());
        private final AtomicLong taken = new AtomicLong(-1);
        private final AtomicLong never = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> readers = new ArrayList<>();

        Visibility(DrWriter.Endpoint standby, DrWriter writer) {
            this.standby = requireNonNull(standby, "standby");
            this.writer = requireNonNull(writer, "writer");
        }

        void start() {
            for (int r = 0; r < READERS; r++) {
                int reader = r;
                readers.add(Thread.ofVirtual().name("dr-visibility-" + r).start(() -> read(reader)));
            }
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread t : readers) {
                t.join(GIVE_UP.plusSeconds(15));
            }
        }

        List<Long> millis() {
            synchronized (millis) {
                return new ArrayList<>(millis);
            }
        }

        int neverVisible() {
            return (int) never.get();
        }

        private void read(int reader) {
            try {
                // Staggered, so that the readers sample different moments of the archive's one-second cycle.
                Thread.sleep(500L * reader);
                while (!stop.get()) {
                    Map.Entry<Long, Long> newest = writer.newestAck();
                    long seen = taken.get();
                    if (newest == null || newest.getKey() <= seen || !taken.compareAndSet(seen, newest.getKey())) {
                        Thread.sleep(20);
                        continue;
                    }
                    String name = writer.name(newest.getKey());
                    long acked = newest.getValue();
                    for (int i = reader; ; i++) {
                        boolean there;
                        try {
                            there = standby.present(name, i);
                        } catch (IOException e) {
                            there = false; // no zone answered this time; the deadline below bounds the retries
                        }
                        if (there) {
                            millis.add((System.nanoTime() - acked) / 1_000_000);
                            break;
                        }
                        if (System.nanoTime() - acked > GIVE_UP.toNanos()) {
                            never.incrementAndGet();
                            break;
                        }
                        Thread.sleep(50);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // A failover

    private Round failover(DrRegions regions, HttpClient http, int n, String primary, String standby) throws Exception {
        RegionLayout p = regions.layout(primary);
        RegionLayout s = regions.layout(standby);
        awaitPair(regions, p, s);
        long standbyFailoverMs = Long.parseLong(s.tuning().getOrDefault("dr.failover.ms", "60000"));
        System.err.printf(Locale.ROOT, "%n== failover %d of %d: %s (primary) is killed (zones and gateways) under %,d %s writes/s; %s (standby, failover after %d ms) takes over%n",
                n, failovers, primary, rate, mode(), standby, standbyFailoverMs);
        Map<Path, Long> logSizes = regions.logSizes(s);
        Instant from = Instant.now();
        DrWriter writer;
        DrRegions.Kill kill;
        Takeover t;
        Instant to;
        DrWriter.Result w;
        String load;
        // A client of the primary as it is this round (its cluster id changes with every failback), closed once its writes are answered.
        try (DrWriter.Endpoint onPrimary = endpoint(regions, http, p)) {
            writer = new DrWriter(onPrimary, String.format(Locale.ROOT, "r%02d", n), rate, maxOutstanding);
            writer.start();
            Thread.sleep(roundSeconds * 1000L);
            load = loadAverage();
            kill = regions.killAll(p);
            writer.stop();
            System.err.printf(Locale.ROOT, "killed %d processes of region %s in %.1f ms%n", kill.processes(), primary, (kill.endNanos() - kill.startNanos()) / 1e6);
            t = awaitTakeover(regions, s, String.format(Locale.ROOT, "r%02d-first", n),
                    Duration.ofMillis(standbyFailoverMs).plusSeconds(takeoverTimeoutSeconds));
            to = Instant.now();
            w = writer.finish(Duration.ofSeconds(15));
        }
        NavigableMap<Long, Long> acked = writer.acked();
        double rto = (t.acceptedNanos() - kill.startNanos()) / 1e9;
        System.err.printf(Locale.ROOT, "writes on %s: %s%nRTO %.2f s (standby seen promoting after %.2f s; probes refused: %s)%n", primary,
                w.summary(), rto, t.detectedNanos() < 0 ? Double.NaN : (t.detectedNanos() - kill.startNanos()) / 1e9, t.refusals());
        ReadBack rb;
        // Read back from the new primary as it is after its promotion: through its APIs, or a client of its own store group.
        try (DrWriter.Endpoint onNewPrimary = endpoint(regions, http, regions.layout(standby))) {
            rb = readBack(onNewPrimary, writer, acked);
        }
        System.err.printf(Locale.ROOT, "read back %,d acknowledged writes on %s: RPO %.2f s, %,d acknowledged writes lost, %,d holes%n", rb.checked(),
                standby, rb.rpoSeconds(), rb.lost(), rb.holes());
        long lastAck = acked.isEmpty() ? -1 : acked.values().stream().mapToLong(Long::longValue).max().orElse(-1);

        long unreachable = -1;
        long promotion = -1;
        long fencing = -1;
        for (String line : DrRegions.logSince(logSizes)) {
            Matcher m = UNREACHABLE.matcher(line);
            if (m.find() && unreachable < 0) {
                unreachable = Long.parseLong(m.group(1));
            }
            m = TOOK_OVER.matcher(line);
            if (m.find() && promotion < 0) {
                promotion = Long.parseLong(m.group(1));
                fencing = Long.parseLong(m.group(2));
            }
        }

        // Back to a pair, the other way round: the old primary restarts (demoted: it lost its epoch) and fails back as a standby.
        double restart = regions.petrel(Duration.ofMinutes(5), "up", "--region", primary, "--timeout", READY_TIMEOUT).seconds();
        regions.awaitLeader(p, st -> "DEMOTED".equals(st.path("role").asText()), Duration.ofSeconds(60), "restarted region " + primary + " is demoted");
        DrRegions.CliResult fb = regions.petrel(Duration.ofMinutes(10), "region", "failback", "--region", primary, "--timeout", READY_TIMEOUT);
        Matcher m = FAILBACK_LOST.matcher(fb.out());
        long reported = m.find() ? Long.parseLong(m.group(1)) : -1;
        return new Round(n, primary, standby, standbyFailoverMs, w, new TimeWindow(from, to), load, (kill.endNanos() - kill.startNanos()) / 1e6,
                lastAck < 0 ? Double.NaN : (kill.startNanos() - lastAck) / 1e6,
                t.detectedNanos() < 0 ? Double.NaN : (t.detectedNanos() - kill.startNanos()) / 1e9,
                t.primaryNanos() < 0 ? Double.NaN : (t.primaryNanos() - kill.startNanos()) / 1e9, rto, t.refusedProbes(), t.refusals(), rb, unreachable,
                promotion, fencing, restart, fb.seconds(), reported);
    }

    /**
     * Watches the standby's zones every 100 ms for the promotion (PROMOTING, then a writable PRIMARY)
     * while probing it with one write at a time, 100 ms apart, the zones in turn, until one is accepted:
     * a client that fails over to the other region. One probe at a time, not the writer's full rate, so
     * that the benchmark does not load the standby while it promotes.
     */
    private static Takeover awaitTakeover(DrRegions regions, RegionLayout standby, String probePrefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        AtomicLong detected = new AtomicLong(-1);
        AtomicLong primary = new AtomicLong(-1);
        AtomicBoolean done = new AtomicBoolean();
        Thread watcher = Thread.ofVirtual().name("dr-watch-" + standby.region()).start(() -> {
            while (!done.get() && System.nanoTime() < deadline) {
                for (JsonNode s : regions.drStatuses(standby)) {
                    String role = s.path("role").asText();
                    long now = System.nanoTime();
                    if (role.equals("PROMOTING") || role.equals("PRIMARY")) {
                        detected.compareAndSet(-1, now);
                    }
                    if (role.equals("PRIMARY") && s.path("writable").asBoolean()) {
                        primary.compareAndSet(-1, now);
                    }
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        int refused = 0;
        long accepted = -1;
        // How the probes were refused (status: count, and the last answer), to tell a standby still promoting from one that
        // promoted but does not take writes yet.
        Map<Integer, Integer> byStatus = new TreeMap<>();
        String lastRefusal = "";
        try {
            for (int i = 0; System.nanoTime() < deadline; i++) {
                ZoneSpec z = standby.zones().get(i % standby.zones().size());
                DrRegions.Answer a = regions.put(z, probePrefix + "-" + i, Duration.ofSeconds(5));
                if (a.status() == 200) {
                    accepted = System.nanoTime();
                    break;
                }
                refused++;
                byStatus.merge(a.status(), 1, Integer::sum);
                lastRefusal = a.detail();
                Thread.sleep(100);
            }
        } finally {
            done.set(true);
            watcher.join(Duration.ofSeconds(10));
        }
        if (accepted < 0) {
            throw new IllegalStateException("region " + standby.region() + " accepted no write within " + timeout.toSeconds() + " s of the kill ("
                    + refused + " probes refused); its leader says " + regions.drLeader(standby).map(JsonNode::toString).orElse("nothing"));
        }
        String refusals = byStatus.isEmpty() ? "none" : byStatus.entrySet().stream().map(e -> (e.getKey() < 0 ? "no answer" : "HTTP " + e.getKey())
                + " ×" + e.getValue()).collect(Collectors.joining(", ")) + " (last: " + lastRefusal + ")";
        return new Takeover(detected.get(), primary.get(), accepted, refused, refusals);
    }

    /**
     * Reads back, newest first, the acknowledged writes of the dead primary on the new primary until
     * {@value #VERIFY_WINDOW} in a row are there: those after the newest present one are lost, any
     * missing below it is a hole (an acknowledged write lost while a later one survived: the archive
     * promises none). The RPO is the time from the newest present write's acknowledgement to the last
     * acknowledgement the dead primary gave. Bounded: at most two minutes of writes are read.
     */
    private ReadBack readBack(DrWriter.Endpoint newPrimary, DrWriter writer, NavigableMap<Long, Long> acked) throws Exception {
        if (acked.isEmpty()) {
            notes.add("A round had no acknowledged write to read back.");
            return new ReadBack(0, -1, 0, 0, Double.NaN);
        }
        long lastAck = acked.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        List<Long> seqs = new ArrayList<>(acked.descendingKeySet());
        long cap = Math.min(seqs.size(), (long) rate * 120);
        long newest = -1;
        long newestAck = Long.MIN_VALUE;
        long lost = 0;
        long holes = 0;
        long run = 0;
        int checked = 0;
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            while (checked < cap && run < VERIFY_WINDOW) {
                int batchEnd = (int) Math.min(cap, checked + 4L * READ_BACK_PARALLELISM);
                List<Future<Boolean>> batch = new ArrayList<>();
                for (int i = checked; i < batchEnd; i++) {
                    String name = writer.name(seqs.get(i));
                    int first = i;
                    batch.add(readers.submit(() -> newPrimary.present(name, first)));
                }
                for (int i = 0; i < batch.size(); i++) {
                    long seq = seqs.get(checked + i);
                    if (batch.get(i).get()) {
                        if (newest < 0) {
                            newest = seq;
                        }
                        newestAck = Math.max(newestAck, acked.get(seq));
                        run++;
                    } else {
                        if (newest < 0) {
                            lost++;
                        } else {
                            holes++;
                        }
                        run = 0;
                    }
                }
                checked = batchEnd;
            }
        }
        double rpo = newest < 0 ? Double.NaN : Math.max(0, lastAck - newestAck) / 1e9;
        if (newest < 0) {
            notes.add("None of the " + checked + " newest acknowledged writes of a round was on the new primary: its RPO is longer than the reads went.");
        }
        return new ReadBack(checked, newest, lost, holes, rpo);
    }

    // ------------------------------------------------------------------------------------------
    // Report

    private void writeReport(String md) throws IOException {
        System.out.println();
        System.out.println(md);
        if (report != null) {
            Files.createDirectories(report.toAbsolutePath().getParent());
            Files.writeString(report, md);
        }
    }

    private String markdown(LagResult lag, List<Round> rounds, double[] startSeconds, Instant started, String loadBefore) {
        StringBuilder s = new StringBuilder();
        s.append("## Disaster recovery: standby lag, RPO and RTO\n\n");
        s.append("```sh\n").append(command != null ? command : "bench/run-dr-bench.sh").append("\n```\n\n");
        s.append(String.format(Locale.ROOT, "Two named regions on this machine (%d cores, JDK %s), each three zone processes and two gateways (idle: "
                        + "no write goes through them), east's zones on `%s.{1,2,3}.1`, west's on `%s.{1,2,3}.1`, sharing one witness backup target (a directory), archiving every second. "
                        + "%s, open loop at %,d/s offered, at most %d unanswered. Failover time "
                        + "(`dr.failover.ms`, the detection) %,d ms; the primary's lease %,d ms. Started %s; load average (1, 5, 15 min) %s at "
                        + "the start, %s at the end. The regions started in %.1f s (east) and %.1f s (west, seeded from east's backups).%n%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), eastPrefix, westPrefix, writesDescription(), rate, maxOutstanding,
                failoverMs, LEASE_MS,
                started, loadBefore, loadAverage(), startSeconds[0], startSeconds[1]));
        if (lag != null) {
            lagSection(s, lag);
        }
        if (!rounds.isEmpty()) {
            failoverSection(s, rounds);
        }
        if (!notes.isEmpty()) {
            s.append("\nNotes:\n\n");
            notes.forEach(n -> s.append("- ").append(n).append('\n'));
        }
        return s.toString();
    }

    /** What a write is in this run, for the report; both phases use the same mode. */
    private String writesDescription() {
        String api = "`PUT /api/v1/namespaces/guest/actions/<new name>?overwrite=true` (guest key, a small nodejs:20 action) spread over the "
                + "primary's three zone APIs";
        // Why store mode is the default, in one sentence, whichever mode ran.
        String apiLimit = "The API mode reaches only about 50-300 writes/s here: besides the same store commit, every API write is an HTTP request "
                + "a zone must parse, authenticate and validate, and that work competes with ten JVMs for the machine's two cores, while the "
                + "store alone takes 1,000 writes/s on this machine (the store benchmark, `BENCHMARKS.md`).";
        return switch (writes) {
            case STORE -> "Writes (both phases, `--writes store`): a `Put` of a new key `" + DrStoreWriter.KEY_PREFIX + "<prefix>-<seq>` ("
                    + DrStoreWriter.VALUE_BYTES + "-byte value) straight into the primary's replicated store through a remote `RatisStore` client "
                    + "of its current cluster, the commit every API write ends in; the read-backs are linearizable store `get`s (west's store for "
                    + "the staleness, the new primary's store for the RPO); the RTO probes still go through the zone APIs. " + apiLimit
                    + " `--writes api` measures through the APIs instead: " + api;
            case API -> "Writes (both phases, `--writes api`): " + api + "; the read-backs are `GET`s of the actions. " + apiLimit;
        };
    }

    private void lagSection(StringBuilder s, LagResult lag) {
        DrWriter.Result w = lag.writes();
        double seconds = w.seconds();
        s.append(String.format(Locale.ROOT, "### Standby lag at %,d writes/s offered (%s writes, %d s, %s)%n%n", rate, w.mode(), lagSeconds,
                lag.window()));
        s.append(String.format(Locale.ROOT, "Writes on east (%s mode): %,d sent, **%,d acknowledged (%,.0f/s achieved)**, %,d errors, %,d not sent (too many "
                        + "outstanding), %,d unanswered; latency p50 %.1f ms, p99 %.1f ms. Server CPU: east's three zones %.2f cores, west's %.2f cores; "
                        + "load average at the end %s.%s%n%n", w.mode(), w.sent(), w.acked(), w.ackedPerSecond(), w.errors(), w.dropped(), w.unfinished(),
                w.latencyMillis(50), w.latencyMillis(99), lag.primaryCpu().serverSeconds() / seconds, lag.standbyCpu().serverSeconds() / seconds,
                lag.loadAverage(), w.firstError() == null ? "" : " First error: " + w.firstError() + "."));
        s.append(String.format(Locale.ROOT, "| every 250 ms (%d samples) | samples | p50 | p99 | max |%n", lag.samples()));
        s.append("|---|---:|---:|---:|---:|\n");
        row(s, "**standby staleness**: acked on east → readable on west (the driver reads), ms", lag.visibleMillis());
        row(s, "standby lag (west's leader, `lagMillis`: behind the archive), ms", lag.lagMillis());
        row(s, "standby lag, entries (`lagEntries`)", lag.lagEntries());
        row(s, "baseline: archive RPO (east's leader, `petrel_backup_rpo_seconds`), ms", lag.archiveRpoMillis());
        row(s, "baseline: archive lag (`petrel_backup_archive_lag_milliseconds`), ms", lag.archiveLagMillis());
        row(s, "entries not archived yet (`petrel_backup_unarchived_entries`)", lag.unarchivedEntries());
        s.append('\n');
        long zeros = Arrays.stream(lag.lagMillis()).filter(v -> v == 0).count();
        s.append(String.format(Locale.ROOT, "Standby staleness / archive RPO (the standby replays the archive, so it cannot be less behind than "
                        + "the archive): p50 %s, p99 %s, max %s. Zone-reported `lagMillis` / archive RPO: p50 %s, p99 %s, max %s (`lagMillis` "
                        + "counts only from the archive on, and is 0 whenever the standby has applied all that is archived: %d of %d samples "
                        + "here). Staleness: %d writes read back, %d not readable on west within 30 s. %d samples had no standby lag (no "
                        + "heartbeat yet), %d no archive status. Driver CPU %.2f cores.%n%n",
                ratio(pct(lag.visibleMillis(), 50), pct(lag.archiveRpoMillis(), 50)),
                ratio(pct(lag.visibleMillis(), 99), pct(lag.archiveRpoMillis(), 99)),
                ratio(pct(lag.visibleMillis(), 100), pct(lag.archiveRpoMillis(), 100)),
                ratio(pct(lag.lagMillis(), 50), pct(lag.archiveRpoMillis(), 50)), ratio(pct(lag.lagMillis(), 99), pct(lag.archiveRpoMillis(), 99)),
                ratio(pct(lag.lagMillis(), 100), pct(lag.archiveRpoMillis(), 100)), zeros, lag.lagMillis().length, lag.visibleMillis().length,
                lag.neverVisible(), lag.lagUnknown(), lag.archiveUnknown(), lag.primaryCpu().clientSeconds() / seconds));
    }

    private void failoverSection(StringBuilder s, List<Round> rounds) {
        s.append(String.format(Locale.ROOT, "### Failovers (%d; SIGKILL to every process of the primary after %d s of %s writes; RTO probes "
                + "through the zone APIs)%n%n", rounds.size(), roundSeconds, rounds.getFirst().writes().mode()));
        s.append("| # | killed → new primary | acked writes (/s achieved) | last ack before kill, ms | standby seen promoting, s | "
                + "writable primary seen, s | **RTO**, s | RTO − failover time, s | RTO − seen promoting, s | **RPO**, s | acked writes lost | holes | "
                + "promotion (log): unreachable ms / took ms / fencing ms | restart + failback, s | failback reports entries |\n");
        s.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
        for (Round r : rounds) {
            s.append(String.format(Locale.ROOT, "| %d | %s → %s | %,d (%,.0f) | %.0f | %.2f | %.2f | **%.2f** | %.2f | %.2f | **%.2f** | %,d | %,d | "
                            + "%s / %s / %s | %.1f + %.1f | %s |%n", r.n(), r.from(), r.to(), r.writes().acked(), r.writes().ackedPerSecond(),
                    r.lastAckBeforeKillMillis(), r.detectedSeconds(), r.primarySeconds(), r.rtoSeconds(), r.rtoAfterDetection(),
                    r.rtoSeconds() - r.detectedSeconds(),
                    r.readBack().rpoSeconds(), r.readBack().lost(), r.readBack().holes(), logged(r.unreachableMsLogged()),
                    logged(r.promotionMsLogged()), logged(r.fencingWaitMsLogged()), r.restartSeconds(), r.failbackSeconds(),
                    logged(r.failbackReportedEntries())));
        }
        double[] rto = rounds.stream().mapToDouble(Round::rtoSeconds).sorted().toArray();
        double[] after = rounds.stream().mapToDouble(Round::rtoAfterDetection).sorted().toArray();
        double[] rpo = rounds.stream().mapToDouble(r -> r.readBack().rpoSeconds()).filter(v -> !Double.isNaN(v)).sorted().toArray();
        double[] detected = rounds.stream().mapToDouble(Round::detectedSeconds).filter(v -> !Double.isNaN(v)).sorted().toArray();
        long lost = rounds.stream().mapToLong(r -> r.readBack().lost()).sum();
        long holes = rounds.stream().mapToLong(r -> r.readBack().holes()).sum();
        long fmsMin = rounds.stream().mapToLong(Round::failoverMs).min().orElse(failoverMs);
        long fmsMax = rounds.stream().mapToLong(Round::failoverMs).max().orElse(failoverMs);
        s.append('\n');
        s.append("| over the failovers | p50 | max |\n|---|---:|---:|\n");
        s.append(String.format(Locale.ROOT, "| RTO (kill → first write accepted by the new primary), s | %.2f | %.2f |%n", median(rto), max(rto)));
        s.append(String.format(Locale.ROOT, "| RTO after detection (RTO − failover time %s ms), s | %.2f | %.2f |%n",
                fmsMin == fmsMax ? String.format(Locale.ROOT, "%,d", fmsMin) : fmsMin + "–" + fmsMax, median(after), max(after)));
        s.append(String.format(Locale.ROOT, "| standby seen promoting (kill → PROMOTING in `/admin/v1/dr`), s | %.2f | %.2f |%n", median(detected), max(detected)));
        double[] afterSeen = rounds.stream().mapToDouble(r -> r.rtoSeconds() - r.detectedSeconds()).filter(v -> !Double.isNaN(v)).sorted().toArray();
        s.append(String.format(Locale.ROOT, "| RTO − seen promoting (the promotion itself: lease wait, catch-up, first write), s | %.2f | %.2f |%n",
                median(afterSeen), max(afterSeen)));
        s.append(String.format(Locale.ROOT, "| RPO (last ack of the dead primary → newest acked write on the new primary), s | %.2f | %.2f |%n", median(rpo),
                max(rpo)));
        s.append('\n');
        s.append(String.format(Locale.ROOT, "- **Goal: RPO under 2 s** — max %.2f s over %d failovers: %s.%n", max(rpo), rpo.length,
                rpo.length == rounds.size() && max(rpo) < 2 ? "met" : "**not met**"));
        s.append(String.format(Locale.ROOT, "- **Goal: RTO under 30 s after detection** — max %.2f s (RTO max %.2f s with %,d ms of detection): %s.%n",
                max(after), max(rto), fmsMax, max(after) < 30 ? "met" : "**not met**"));
        s.append(String.format(Locale.ROOT, "- %,d acknowledged writes lost in all; %,d holes (acknowledged writes missing below a present one: "
                + "must be 0). The failback's count is of write entries the old primary applied after the takeover point, acknowledged "
                + "or not (its lost-writes report names their keys).%n", lost, holes));
        s.append("\nEach round's writes and when it ran (UTC, to match the zones' logs), with the load average (1, 5, 15 min) at the kill:\n\n");
        for (Round r : rounds) {
            s.append(String.format(Locale.ROOT, "- %d (%s): %s; load %s; kill took %.1f ms; %d probes refused before the first accepted (%s); "
                            + "read back %,d acked writes%n", r.n(), r.window(), r.writes().summary(), r.loadAtKill(), r.killMillis(),
                    r.refusedProbes(), r.refusals(), r.readBack().checked()));
        }
    }

    private static void row(StringBuilder s, String label, long[] sorted) {
        s.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s |%n", label, sorted.length, num(pct(sorted, 50)), num(pct(sorted, 99)),
                num(pct(sorted, 100))));
    }

    private static String logged(long v) {
        return v < 0 ? "n/a" : String.format(Locale.ROOT, "%,d", v);
    }

    private static String num(long v) {
        return v < 0 ? "n/a" : String.format(Locale.ROOT, "%,d", v);
    }

    private static String ratio(long a, long b) {
        return a < 0 || b <= 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", (double) a / b);
    }

    private static long[] sorted(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /** Nearest-rank percentile of sorted values; -1 if there are none. */
    private static long pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return -1;
        }
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, i)];
    }

    private static double median(double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted[(sorted.length - 1) / 2];
    }

    private static double max(double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
