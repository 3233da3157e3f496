package io.petrel.bench;

import java.util.List;

import static java.util.Objects.requireNonNull;

/** Everything measured on one system, in the order the phases ran. */
record SystemResults(String system, List<ClosedLoopResult> writes, OpenLoopResult fixedRate, ClosedLoopResult reads) {
    SystemResults {
        requireNonNull(system, "system");
        writes = List.copyOf(writes);
        requireNonNull(fixedRate, "fixedRate");
        requireNonNull(reads, "reads");
    }
}
