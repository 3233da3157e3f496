package io.petrel.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

import static java.util.Objects.requireNonNull;

/**
 * The result tables, in Markdown so that they paste into BENCHMARKS.md as they are. The systems are Petrel
 * (on its Raft store), optionally Petrel's store on PostgreSQL, and the reference system (etcd), in that order.
 * Each ratio column divides one system by another: above 1 is better for throughput, below 1 is better for
 * latency, which each row says.
 */
final class Report {
    /** A ratio column: {@code systems[numerator] / systems[denominator]}. */
    private record Ratio(int numerator, int denominator) {
    }

    private final List<SystemResults> systems;
    private final List<Ratio> ratios;
    private final double p99GoalMillis;

    /** Petrel against one other system. */
    Report(SystemResults petrel, SystemResults other, double p99GoalMillis) {
        this(List.of(petrel, other), p99GoalMillis);
    }

    /**
     * Two or three systems: the first is Petrel on Raft, the last the reference; with three, the middle one is
     * Petrel on PostgreSQL, and the ratios are each Petrel against the reference and PostgreSQL against Raft.
     */
    Report(List<SystemResults> systems, double p99GoalMillis) {
        this.systems = List.copyOf(requireNonNull(systems, "systems"));
        if (systems.size() < 2 || systems.size() > 3) {
            throw new IllegalArgumentException("a report compares 2 or 3 systems, not " + systems.size());
        }
        int ref = systems.size() - 1;
        this.ratios = systems.size() == 2 ? List.of(new Ratio(0, 1)) : List.of(new Ratio(0, ref), new Ratio(1, ref), new Ratio(1, 0));
        this.p99GoalMillis = p99GoalMillis;
    }

    private SystemResults first() {
        return systems.getFirst();
    }

    String markdown() {
        StringBuilder s = new StringBuilder();
        s.append("| workload |");
        systems.forEach(r -> s.append(' ').append(r.system()).append(" |"));
        ratios.forEach(q -> s.append(' ').append(systems.get(q.numerator()).system()).append('/').append(systems.get(q.denominator()).system()).append(" |"));
        s.append('\n').append("|---|").append("---:|".repeat(systems.size() + ratios.size())).append('\n');
        for (int i = 0; i < first().writes().size(); i++) {
            int level = i;
            int clients = first().writes().get(i).clients();
            row(s, "write throughput, " + clients + (clients == 1 ? " client" : " clients") + " (writes/s, higher is better)",
                    r -> r.writes().get(level).opsPerSecond(), 0);
        }
        int rate = first().fixedRate().ratePerSecond();
        String at = String.format(Locale.ROOT, "at %,d writes/s", rate);
        row(s, "commit latency p50 " + at + " (ms, lower is better)", r -> r.fixedRate().percentileMillis(50), 2);
        row(s, "commit latency p99 " + at + " (ms, lower is better)", r -> r.fixedRate().percentileMillis(99), 2);
        row(s, "commit latency p99.9 " + at + " (ms, lower is better)", r -> r.fixedRate().percentileMillis(99.9), 2);
        row(s, "commit latency max " + at + " (ms, lower is better)", r -> r.fixedRate().maxMillis(), 2);
        row(s, "linearizable reads, " + first().reads().clients() + " readers (reads/s, higher is better)",
                r -> r.reads().opsPerSecond(), 0);

        s.append('\n');
        s.append("Latency seen by the closed-loop clients (ms, p50 / p99), and errors:\n\n");
        s.append("| phase |");
        systems.forEach(r -> s.append(' ').append(r.system()).append(" |"));
        s.append('\n').append("|---|").append("---:|".repeat(systems.size())).append('\n');
        for (int i = 0; i < first().writes().size(); i++) {
            int level = i;
            int clients = first().writes().get(i).clients();
            cells(s, "writes, " + clients + (clients == 1 ? " client" : " clients"), r -> closed(r.writes().get(level)));
        }
        cells(s, "reads, " + first().reads().clients() + " readers", r -> closed(r.reads()));
        cells(s, String.format(Locale.ROOT, "writes at %,d/s: acknowledged of scheduled", rate), r -> open(r.fixedRate()));

        s.append('\n');
        s.append("CPU per operation in ms (servers: all the system's server processes together, PostgreSQL's backends included; ")
                .append("driver: this benchmark's JVM, mostly the system's client library, which for Petrel-PostgreSQL is the whole store),")
                .append(" and the cores the servers kept busy:\n\n");
        s.append("| phase |");
        systems.forEach(r -> s.append(' ').append(r.system()).append(" servers |"));
        systems.forEach(r -> s.append(' ').append(r.system()).append(" driver |"));
        s.append('\n').append("|---|").append("---:|".repeat(2 * systems.size())).append('\n');
        for (int i = 0; i < first().writes().size(); i++) {
            int level = i;
            int clients = first().writes().get(i).clients();
            cpuRow(s, "writes, " + clients + (clients == 1 ? " client" : " clients"),
                    r -> r.writes().get(level).cpu(), r -> r.writes().get(level).ops(), r -> r.writes().get(level).seconds());
        }
        cpuRow(s, String.format(Locale.ROOT, "writes at %,d/s", rate), r -> r.fixedRate().cpu(), r -> r.fixedRate().completed(),
                r -> r.fixedRate().seconds());
        cpuRow(s, "reads, " + first().reads().clients() + " readers", r -> r.reads().cpu(), r -> r.reads().ops(), r -> r.reads().seconds());

        s.append('\n');
        s.append("When each phase was measured (to match against the servers' logs):\n\n");
        s.append("| phase |");
        systems.forEach(r -> s.append(' ').append(r.system()).append(" |"));
        s.append('\n').append("|---|").append("---|".repeat(systems.size())).append('\n');
        for (int i = 0; i < first().writes().size(); i++) {
            int level = i;
            int clients = first().writes().get(i).clients();
            cells(s, "writes, " + clients + (clients == 1 ? " client" : " clients"), r -> String.valueOf(r.writes().get(level).window()));
        }
        cells(s, String.format(Locale.ROOT, "writes at %,d/s", rate), r -> String.valueOf(r.fixedRate().window()));
        cells(s, "reads, " + first().reads().clients() + " readers", r -> String.valueOf(r.reads().window()));

        s.append('\n');
        for (String line : verdict()) {
            s.append("- ").append(line).append('\n');
        }
        List<String> errors = new ArrayList<>();
        for (SystemResults r : systems) {
            r.writes().stream().filter(w -> w.firstError() != null)
                    .forEach(w -> errors.add(r.system() + ", writes with " + w.clients() + " clients: " + w.firstError()));
            if (r.fixedRate().firstError() != null) {
                errors.add(r.system() + ", fixed rate: " + r.fixedRate().firstError());
            }
            if (r.reads().firstError() != null) {
                errors.add(r.system() + ", reads: " + r.reads().firstError());
            }
        }
        if (!errors.isEmpty()) {
            s.append("\nFirst error of each phase that had one:\n\n");
            errors.forEach(e -> s.append("- ").append(e).append('\n'));
        }
        return s.toString();
    }

    /** Where each Petrel backend stands against the reference: more write throughput, p99 under the bound. */
    List<String> verdict() {
        List<String> lines = new ArrayList<>();
        SystemResults other = systems.getLast();
        for (SystemResults petrel : systems.subList(0, systems.size() - 1)) {
            for (int i = 0; i < petrel.writes().size(); i++) {
                ClosedLoopResult p = petrel.writes().get(i);
                ClosedLoopResult o = other.writes().get(i);
                lines.add(String.format(Locale.ROOT, "write throughput with %d client(s): %s %s %s (%.2fx)", p.clients(),
                        petrel.system(), p.opsPerSecond() > o.opsPerSecond() ? "ahead of" : "behind", other.system(),
                        p.opsPerSecond() / o.opsPerSecond()));
            }
            OpenLoopResult f = petrel.fixedRate();
            double p99 = f.percentileMillis(99);
            lines.add(String.format(Locale.ROOT, "%s p99 at %,d writes/s: %.2f ms, %s the %.0f ms goal%s", petrel.system(),
                    f.ratePerSecond(), p99, p99 < p99GoalMillis ? "within" : "over", p99GoalMillis,
                    f.clean() ? "" : " (and not every write was acknowledged: see the table)"));
        }
        return lines;
    }

    private void row(StringBuilder s, String label, ToDoubleFunction<SystemResults> metric, int decimals) {
        s.append("| ").append(label).append(" |");
        for (SystemResults r : systems) {
            s.append(' ').append(number(metric.applyAsDouble(r), decimals)).append(" |");
        }
        for (Ratio q : ratios) {
            double p = metric.applyAsDouble(systems.get(q.numerator()));
            double o = metric.applyAsDouble(systems.get(q.denominator()));
            s.append(' ').append(o > 0 && !Double.isNaN(p) ? String.format(Locale.ROOT, "%.2f", p / o) : "n/a").append(" |");
        }
        s.append('\n');
    }

    private void cells(StringBuilder s, String label, java.util.function.Function<SystemResults, String> cell) {
        s.append("| ").append(label).append(" |");
        systems.forEach(r -> s.append(' ').append(cell.apply(r)).append(" |"));
        s.append('\n');
    }

    private void cpuRow(StringBuilder s, String label, java.util.function.Function<SystemResults, CpuUse> cpu,
                        java.util.function.ToLongFunction<SystemResults> ops, ToDoubleFunction<SystemResults> seconds) {
        s.append("| ").append(label).append(" |");
        systems.forEach(r -> s.append(' ').append(server(cpu.apply(r), ops.applyAsLong(r), seconds.applyAsDouble(r))).append(" |"));
        systems.forEach(r -> s.append(' ').append(number(cpu.apply(r).clientMillisPer(ops.applyAsLong(r)), 3)).append(" |"));
        s.append('\n');
    }

    /** Server CPU per operation, and how many cores that kept busy on average. */
    private static String server(CpuUse cpu, long ops, double seconds) {
        if (Double.isNaN(cpu.serverSeconds())) {
            return "n/a";
        }
        // The open loop's CPU runs until its last answer, a little past its nominal seconds: close enough for a share.
        return String.format(Locale.ROOT, "%.3f (%.2f cores)", cpu.serverMillisPer(ops), cpu.serverSeconds() / seconds);
    }

    private static String number(double v, int decimals) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String closed(ClosedLoopResult r) {
        return String.format(Locale.ROOT, "%.2f / %.2f%s", r.percentileMillis(50), r.percentileMillis(99),
                r.errors() == 0 ? "" : String.format(Locale.ROOT, ", %,d errors", r.errors()));
    }

    private static String open(OpenLoopResult r) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%,d of %,d", r.completed(), r.scheduled()));
        if (r.errors() > 0) {
            s.append(String.format(Locale.ROOT, ", %,d errors", r.errors()));
        }
        if (r.dropped() > 0) {
            s.append(String.format(Locale.ROOT, ", %,d not sent (too many outstanding)", r.dropped()));
        }
        if (r.unfinished() > 0) {
            s.append(String.format(Locale.ROOT, ", %,d unanswered", r.unfinished()));
        }
        return s.toString();
    }
}
