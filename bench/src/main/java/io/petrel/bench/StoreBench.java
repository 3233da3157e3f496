package io.petrel.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs the same store workloads against a Petrel region and an etcd cluster, both already running on
 * loopback addresses, and prints the results side by side (see bench/README.md and
 * bench/run-store-bench.sh, which starts and stops both).
 *
 * <p>The phases alternate between the systems workload by workload (Petrel, then etcd), so that
 * both meet the machine in the same state at each step.
 */
@Command(name = "store-bench", mixinStandardHelpOptions = true,
        description = "Compare Petrel's store (on Raft and, with --postgres-url, on PostgreSQL) with etcd: write throughput, "
                + "commit latency at a fixed rate, linearizable reads.")
public final class StoreBench implements Callable<Integer> {

    @Option(names = "--petrel-data", required = true, paramLabel = "DIR",
            description = "data folder of a running local region (its region.json says where the zones are)")
    Path petrelData;

    @Option(names = "--etcd-endpoints", required = true, split = ",", paramLabel = "URL",
            description = "client URLs of the etcd members, e.g. http://127.62.1.1:2379,...")
    List<String> etcdEndpoints;

    @Option(names = "--clients", split = ",", defaultValue = "1,16,64", description = "concurrent writers per throughput level (default ${DEFAULT-VALUE})")
    List<Integer> clientLevels;

    @Option(names = "--write-seconds", defaultValue = "10", description = "measured seconds per throughput level (default ${DEFAULT-VALUE})")
    int writeSeconds;

    @Option(names = "--warmup-seconds", defaultValue = "3", description = "unmeasured seconds before each phase (default ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--initial-warmup-seconds", defaultValue = "30",
            description = "writes with 16 clients before anything is measured (default ${DEFAULT-VALUE}): freshly started "
                    + "zone JVMs spend their first half minute compiling, which a long-running region has behind it")
    int initialWarmupSeconds;

    @Option(names = "--rate", defaultValue = "1000", description = "offered writes per second for the latency phase (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--rate-seconds", defaultValue = "15", description = "measured seconds of the latency phase (default ${DEFAULT-VALUE})")
    int rateSeconds;

    @Option(names = "--readers", defaultValue = "16", description = "concurrent linearizable readers (default ${DEFAULT-VALUE})")
    int readers;

    @Option(names = "--read-seconds", defaultValue = "10", description = "measured seconds of the read phase (default ${DEFAULT-VALUE})")
    int readSeconds;

    @Option(names = "--read-keys", defaultValue = "1000", description = "keys written first and then read at random (default ${DEFAULT-VALUE})")
    int readKeys;

    @Option(names = "--value-bytes", defaultValue = "256", description = "size of every value written (default ${DEFAULT-VALUE})")
    int valueBytes;

    @Option(names = "--settle-seconds", defaultValue = "2", description = "pause between phases (default ${DEFAULT-VALUE})")
    int settleSeconds;

    @Option(names = "--op-timeout-seconds", defaultValue = "30", description = "a single operation that takes longer fails (default ${DEFAULT-VALUE})")
    int opTimeoutSeconds;

    @Option(names = "--p99-goal-ms", defaultValue = "10", description = "the p99 bound the verdict checks (default ${DEFAULT-VALUE})")
    double p99GoalMillis;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the Markdown tables to this file")
    Path report;

    @Option(names = "--petrel-pids", split = ",", paramLabel = "PID",
            description = "process ids of the Petrel zones, to measure their CPU use (optional)")
    List<Long> petrelPids = List.of();

    @Option(names = "--etcd-pids", split = ",", paramLabel = "PID",
            description = "process ids of the etcd members, to measure their CPU use (optional)")
    List<Long> etcdPids = List.of();

    @Option(names = "--postgres-url", paramLabel = "URL",
            description = "also measure Petrel's store on PostgreSQL (PostgresStore in this process), e.g. "
                    + "jdbc:postgresql://127.65.1.1:5432,127.65.2.1:5432/postgres?targetServerType=primary")
    String postgresUrl;

    @Option(names = "--postgres-user", defaultValue = "petrel", description = "the PostgreSQL role (default ${DEFAULT-VALUE})")
    String postgresUser;

    @Option(names = "--postgres-password-file", paramLabel = "FILE", description = "a file holding the PostgreSQL role's password")
    Path postgresPasswordFile;

    @Option(names = "--postgres-pool", defaultValue = "16", description = "connections of the PostgreSQL store's pool (default ${DEFAULT-VALUE})")
    int postgresPool;

    @Option(names = "--postgres-pids", split = ",", paramLabel = "PID",
            description = "process ids of the PostgreSQL servers (postmasters; their backends count too), to measure their CPU use (optional)")
    List<Long> postgresPids = List.of();

    @Spec
    CommandSpec spec;

    /** Writes and reads of a run use their own key space, so runs on the same data never collide. */
    private final String runId = Long.toString(System.currentTimeMillis(), 36);

    public static void main(String[] args) {
        System.exit(new CommandLine(new StoreBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        validate();
        byte[] value = new byte[valueBytes];
        // Random bytes: neither system gets to compress its way ahead.
        new Random(42).nextBytes(value);
        Duration opTimeout = Duration.ofSeconds(opTimeoutSeconds);

        try (PetrelTarget petrel = PetrelTarget.connect(petrelData);
             PostgresTarget postgres = postgresUrl == null ? null : PostgresTarget.connect(postgresUrl, postgresUser,
                     java.util.Optional.ofNullable(postgresPasswordFile), postgresPool, clientLevels.stream().mapToInt(c -> c).max().orElse(64));
             EtcdTarget etcd = EtcdTarget.connect(etcdEndpoints, opTimeout)) {
            // Petrel on Raft, Petrel on PostgreSQL (if asked), etcd: the reference comes last.
            List<Target> targets = postgres == null ? List.of(petrel, etcd) : List.of(petrel, postgres, etcd);
            List<CpuMeter> cpu = postgres == null ? List.of(meter(petrelPids), meter(etcdPids))
                    : List.of(meter(petrelPids), postgresPids.isEmpty() ? CpuMeter.NONE : new CpuMeter(checked(postgresPids), true), meter(etcdPids));
            log("Petrel: %s", petrel.description());
            if (postgres != null) {
                log("Petrel on PostgreSQL: %s", postgres.description());
            }
            log("etcd: %s", etcdEndpoints);
            for (Target t : targets) {
                awaitWritable(t, value, Duration.ofSeconds(60));
            }
            String loadBefore = loadAverage();
            log("load average: %s", loadBefore);

            for (Target t : targets) {
                warmUp(t, value, opTimeout);
            }
            List<List<ClosedLoopResult>> writes = new ArrayList<>();
            targets.forEach(t -> writes.add(new ArrayList<>()));
            for (int clients : clientLevels) {
                // Level by level, each system in turn, so that all meet the machine in the same state.
                for (int i = 0; i < targets.size(); i++) {
                    writes.get(i).add(writeThroughput(targets.get(i), clients, value, opTimeout, cpu.get(i)));
                }
            }
            List<OpenLoopResult> fixed = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                fixed.add(fixedRate(targets.get(i), value, opTimeout, cpu.get(i)));
            }
            List<ClosedLoopResult> reads = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                reads.add(readThroughput(targets.get(i), value, opTimeout, cpu.get(i)));
            }

            List<SystemResults> results = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                // With PostgreSQL in the run, "Petrel" alone would not say which backend.
                String name = targets.get(i) == petrel && postgres != null ? "Petrel-Raft" : targets.get(i).name();
                results.add(new SystemResults(name, writes.get(i), fixed.get(i), reads.get(i)));
            }
            Report table = new Report(results, p99GoalMillis);
            String text = header(loadBefore) + "\n" + table.markdown();
            System.out.println();
            System.out.print(text);
            if (report != null) {
                Files.writeString(report, text);
            }
        }
        return 0;
    }

    /** Writes with 16 clients, nothing measured: the JITs and the page cache get to where a running system is. */
    private void warmUp(Target t, byte[] value, Duration opTimeout) throws InterruptedException {
        log("%s: initial warm-up, 16 clients for %d s", t.name(), initialWarmupSeconds);
        // A closed loop whose measured window is 1 ms: only its warm-up matters, its result is dropped.
        new ClosedLoop(16, Duration.ofSeconds(initialWarmupSeconds), Duration.ofMillis(1), opTimeout, CpuMeter.NONE)
                .run("warmup", writes(t, "warm", value, opTimeout));
        settle();
    }

    private ClosedLoopResult writeThroughput(Target t, int clients, byte[] value, Duration opTimeout, CpuMeter cpu)
            throws InterruptedException {
        ClosedLoopResult r = new ClosedLoop(clients, Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(writeSeconds), opTimeout, cpu)
                .run("w" + clients, writes(t, "w" + clients, value, opTimeout));
        log("%s: %d writer(s): %,.0f writes/s, p50 %.2f ms, p99 %.2f ms, %d errors", t.name(), clients,
                r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99), r.errors());
        settle();
        return r;
    }

    private OpenLoopResult fixedRate(Target t, byte[] value, Duration opTimeout, CpuMeter cpu) throws InterruptedException {
        // At most 5 s of sends outstanding: far past any sane latency, well within memory.
        OpenLoop loop = new OpenLoop(rate, Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(rateSeconds),
                Math.max(1, rate * 5), opTimeout.plusSeconds(5), cpu);
        String prefix = prefix("rate");
        OpenLoopResult r = loop.run(t, n -> prefix + n, value);
        log("%s: %,d writes/s offered: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %,d of %,d acknowledged, %d errors", t.name(),
                rate, r.percentileMillis(50), r.percentileMillis(99), r.maxMillis(), r.completed(), r.scheduled(), r.errors());
        settle();
        return r;
    }

    private ClosedLoopResult readThroughput(Target t, byte[] value, Duration opTimeout, CpuMeter cpu) throws Exception {
        populate(t, value, opTimeout);
        ClosedLoopResult r = new ClosedLoop(readers, Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(readSeconds), opTimeout, cpu)
                .run("r", (client, seq) -> {
                    String k = readKey(ThreadLocalRandom.current().nextInt(readKeys));
                    if (!t.get(k)) {
                        throw new IllegalStateException("key " + k + " written before the phase is missing");
                    }
                });
        log("%s: %d linearizable readers: %,.0f reads/s, p50 %.2f ms, p99 %.2f ms, %d errors", t.name(), readers,
                r.opsPerSecond(), r.percentileMillis(50), r.percentileMillis(99), r.errors());
        settle();
        return r;
    }

    private static CpuMeter meter(List<Long> pids) {
        return pids.isEmpty() ? CpuMeter.NONE : new CpuMeter(checked(pids));
    }

    private static List<Long> checked(List<Long> pids) {
        for (long pid : pids) {
            if (ProcessHandle.of(pid).isEmpty()) {
                throw new IllegalArgumentException("no process " + pid + " to measure");
            }
        }
        return pids;
    }

    private void validate() {
        if (clientLevels.isEmpty() || clientLevels.stream().anyMatch(c -> c < 1 || c > 1024)) {
            throw bad("--clients must list 1 to 1024 clients per level");
        }
        if (writeSeconds < 1 || rateSeconds < 1 || readSeconds < 1 || warmupSeconds < 0 || initialWarmupSeconds < 0
                || writeSeconds > 600 || rateSeconds > 600 || readSeconds > 600 || warmupSeconds > 600 || initialWarmupSeconds > 600) {
            throw bad("phase durations must be 1 to 600 s (warm-ups 0 to 600 s)");
        }
        if (readers < 1 || readers > 1024 || readKeys < 1 || readKeys > 1_000_000) {
            throw bad("--readers must be 1 to 1024 and --read-keys 1 to 1,000,000");
        }
        if (valueBytes < 1 || valueBytes > 1024 * 1024) {
            throw bad("--value-bytes must be 1 to 1 MiB");
        }
        if (rate < 1 || rate > 100_000) {
            throw bad("--rate must be 1 to 100,000");
        }
    }

    /** A bad option: picocli prints the message and the usage, not a stack trace. */
    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private String prefix(String phase) {
        return "bench/" + runId + "/" + phase + "/";
    }

    private String key(String phase, int client, long seq) {
        return prefix(phase) + client + "/" + seq;
    }

    private String readKey(int i) {
        return prefix("read") + i;
    }

    /** Each client puts a key of its own, one after another, waiting for each commit. */
    private Workload writes(Target t, String phase, byte[] value, Duration opTimeout) {
        return (client, seq) -> t.putAsync(key(phase, client, seq), value).get(opTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Retries one write until the system takes it: a freshly started cluster may still be electing. */
    private static void awaitWritable(Target t, byte[] value, Duration limit) throws InterruptedException {
        long giveUp = System.nanoTime() + limit.toNanos();
        String last = null;
        while (System.nanoTime() < giveUp) {
            try {
                t.putAsync("bench/ready", value).get(5, TimeUnit.SECONDS);
                log("%s: takes writes", t.name());
                return;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                last = ClosedLoop.describe(e);
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException(t.name() + " took no write within " + limit.toSeconds() + " s: " + last);
    }

    /** Writes the keys the readers read, at most 64 at a time; fails unless every one is acknowledged. */
    private void populate(Target t, byte[] value, Duration opTimeout) throws InterruptedException {
        Semaphore window = new Semaphore(64);
        LongAdder failed = new LongAdder();
        AtomicReference<String> firstError = new AtomicReference<>();
        long giveUp = System.nanoTime() + opTimeout.toNanos() + TimeUnit.SECONDS.toNanos(readKeys / 100 + 10);
        for (int i = 0; i < readKeys; i++) {
            if (!window.tryAcquire(Math.max(1, giveUp - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException(t.name() + ": writing the keys to read took too long");
            }
            CompletableFuture<?> f;
            try {
                f = t.putAsync(readKey(i), value);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((r, e) -> {
                if (e != null) {
                    failed.increment();
                    firstError.compareAndSet(null, ClosedLoop.describe(e));
                }
                window.release();
            });
        }
        if (!window.tryAcquire(64, Math.max(1, giveUp - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException(t.name() + ": writing the keys to read took too long");
        }
        if (failed.sum() > 0) {
            throw new IllegalStateException(t.name() + ": " + failed.sum() + " of the keys to read were not written: " + firstError.get());
        }
        log("%s: %,d keys written for the readers", t.name(), readKeys);
    }

    private void settle() throws InterruptedException {
        Thread.sleep(TimeUnit.SECONDS.toMillis(settleSeconds));
    }

    private String header(String loadBefore) {
        return String.format(Locale.ROOT, """
                Store benchmark, %s; %d cores; Java %s; load average (1/5/15 min) %s before the phases, %s after
                Workloads: %d-byte values, unique keys; writes with %s clients for %d s each (after %d s warm-up); \
                %,d writes/s offered for %d s (open loop); %d linearizable readers for %d s over %,d keys.
                """, ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Runtime.getRuntime().availableProcessors(),
                Runtime.version(), loadBefore, loadAverage(), valueBytes, clientLevels, writeSeconds, warmupSeconds, rate, rateSeconds, readers, readSeconds, readKeys);
    }

    /** The machine's load average: whatever else runs on the two cores skews both systems' numbers. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[%tT] " + format + "%n", prepend(System.currentTimeMillis(), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
