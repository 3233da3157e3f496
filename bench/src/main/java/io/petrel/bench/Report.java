package io.petrel.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

import static java.util.Objects.requireNonNull;

/**
 * The result tables, in Markdown so that they paste into BENCHMARKS.md as they are. The ratio
 * column is always Petrel divided by the other system: above 1 is better for throughput, below 1 is
 * better for latency, which each row says.
 */
final class Report {
    private final SystemResults petrel;
    private final SystemResults other;
    private final double p99GoalMillis;

    Report(SystemResults petrel, SystemResults other, double p99GoalMillis) {
        this.petrel = requireNonNull(petrel, "petrel");
        this.other = requireNonNull(other, "other");
        this.p99GoalMillis = p99GoalMillis;
    }

    String markdown() {
        StringBuilder s = new StringBuilder();
        s.append("| workload | ").append(petrel.system()).append(" | ").append(other.system()).append(" | ")
                .append(petrel.system()).append('/').append(other.system()).append(" |\n");
        s.append("|---|---:|---:|---:|\n");
        for (int i = 0; i < petrel.writes().size(); i++) {
            int level = i;
            int clients = petrel.writes().get(i).clients();
            row(s, "write throughput, " + clients + (clients == 1 ? " client" : " clients") + " (writes/s, higher is better)",
                    r -> r.writes().get(level).opsPerSecond(), 0);
        }
        int rate = petrel.fixedRate().ratePerSecond();
        String at = String.format(Locale.ROOT, "at %,d writes/s", rate);
        row(s, "commit latency p50 " + at + " (ms, lower is better)", r -> r.fixedRate().percentileMillis(50), 2);
        row(s, "commit latency p99 " + at + " (ms, lower is better)", r -> r.fixedRate().percentileMillis(99), 2);
        row(s, "commit latency p99.9 " + at + " (ms, lower is better)", r -> r.fixedRate().percentileMillis(99.9), 2);
        row(s, "commit latency max " + at + " (ms, lower is better)", r -> r.fixedRate().maxMillis(), 2);
        row(s, "linearizable reads, " + petrel.reads().clients() + " readers (reads/s, higher is better)",
                r -> r.reads().opsPerSecond(), 0);

        s.append('\n');
        s.append("Latency seen by the closed-loop clients (ms, p50 / p99), and errors:\n\n");
        s.append("| phase | ").append(petrel.system()).append(" | ").append(other.system()).append(" |\n");
        s.append("|---|---:|---:|\n");
        for (int i = 0; i < petrel.writes().size(); i++) {
            int clients = petrel.writes().get(i).clients();
            s.append("| writes, ").append(clients).append(clients == 1 ? " client" : " clients").append(" | ")
                    .append(closed(petrel.writes().get(i))).append(" | ").append(closed(other.writes().get(i))).append(" |\n");
        }
        s.append("| reads, ").append(petrel.reads().clients()).append(" readers | ")
                .append(closed(petrel.reads())).append(" | ").append(closed(other.reads())).append(" |\n");
        s.append(String.format(Locale.ROOT, "| writes at %,d/s: acknowledged of scheduled | %s | %s |%n", rate,
                open(petrel.fixedRate()), open(other.fixedRate())));

        s.append('\n');
        s.append("CPU per operation in ms (servers: all three server processes together; driver: this benchmark's JVM, ")
                .append("mostly the system's client library), and the cores the servers kept busy:\n\n");
        s.append("| phase | ").append(petrel.system()).append(" servers | ").append(other.system()).append(" servers | ")
                .append(petrel.system()).append(" driver | ").append(other.system()).append(" driver |\n");
        s.append("|---|---:|---:|---:|---:|\n");
        for (int i = 0; i < petrel.writes().size(); i++) {
            int clients = petrel.writes().get(i).clients();
            cpuRow(s, "writes, " + clients + (clients == 1 ? " client" : " clients"), petrel.writes().get(i).cpu(), petrel.writes().get(i).ops(),
                    petrel.writes().get(i).seconds(), other.writes().get(i).cpu(), other.writes().get(i).ops(), other.writes().get(i).seconds());
        }
        cpuRow(s, String.format(Locale.ROOT, "writes at %,d/s", rate), petrel.fixedRate().cpu(), petrel.fixedRate().completed(),
                petrel.fixedRate().seconds(), other.fixedRate().cpu(), other.fixedRate().completed(), other.fixedRate().seconds());
        cpuRow(s, "reads, " + petrel.reads().clients() + " readers", petrel.reads().cpu(), petrel.reads().ops(), petrel.reads().seconds(),
                other.reads().cpu(), other.reads().ops(), other.reads().seconds());

        s.append('\n');
        s.append("When each phase was measured (to match against the servers' logs):\n\n");
        s.append("| phase | ").append(petrel.system()).append(" | ").append(other.system()).append(" |\n");
        s.append("|---|---|---|\n");
        for (int i = 0; i < petrel.writes().size(); i++) {
            int clients = petrel.writes().get(i).clients();
            s.append("| writes, ").append(clients).append(clients == 1 ? " client" : " clients").append(" | ")
                    .append(petrel.writes().get(i).window()).append(" | ").append(other.writes().get(i).window()).append(" |\n");
        }
        s.append(String.format(Locale.ROOT, "| writes at %,d/s | %s | %s |%n", rate, petrel.fixedRate().window(), other.fixedRate().window()));
        s.append("| reads, ").append(petrel.reads().clients()).append(" readers | ").append(petrel.reads().window()).append(" | ")
                .append(other.reads().window()).append(" |\n");

        s.append('\n');
        for (String line : verdict()) {
            s.append("- ").append(line).append('\n');
        }
        List<String> errors = new ArrayList<>();
        for (SystemResults r : List.of(petrel, other)) {
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

    /** Where Petrel stands against the goal: more write throughput than the other system, p99 under the bound. */
    List<String> verdict() {
        List<String> lines = new ArrayList<>();
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
        return lines;
    }

    private void row(StringBuilder s, String label, ToDoubleFunction<SystemResults> metric, int decimals) {
        double p = metric.applyAsDouble(petrel);
        double o = metric.applyAsDouble(other);
        s.append("| ").append(label).append(" | ").append(number(p, decimals)).append(" | ").append(number(o, decimals))
                .append(" | ").append(o > 0 && !Double.isNaN(p) ? String.format(Locale.ROOT, "%.2f", p / o) : "n/a").append(" |\n");
    }

    private static void cpuRow(StringBuilder s, String label, CpuUse p, long pOps, double pSeconds, CpuUse o, long oOps, double oSeconds) {
        s.append("| ").append(label).append(" | ").append(server(p, pOps, pSeconds)).append(" | ").append(server(o, oOps, oSeconds))
                .append(" | ").append(number(p.clientMillisPer(pOps), 3)).append(" | ").append(number(o.clientMillisPer(oOps), 3)).append(" |\n");
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
