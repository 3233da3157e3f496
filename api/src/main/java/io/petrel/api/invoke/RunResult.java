package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * How an activation ended, as the invoker saw it.
 *
 * @param statusCode  0 success, 1 application error (the result has {@code error}), 2 action developer
 *                    error (bad output, crash, timeout, memory), 3 whisk internal error
 * @param result      the result (an object or an array); {@code {"error": ...}} on errors 2 and 3
 * @param logs        log lines, {@code "<ISO time>  stdout: text"}, already cut to the log limit
 * @param startMillis when the container got the activation (after any wait for it)
 * @param endMillis   when the result was there
 * @param initMillis  time the container spent in init, absent when it was warm
 * @param timedOut    whether the time limit ended it
 * @param zone        the zone whose invoker ran it
 */
public record RunResult(int statusCode, JsonNode result, List<String> logs, long startMillis, long endMillis,
                        OptionalLong initMillis, boolean timedOut, String zone) {
    public RunResult {
        requireNonNull(result, "result");
        logs = List.copyOf(logs);
        requireNonNull(initMillis, "initMillis");
        requireNonNull(zone, "zone");
        if (statusCode < 0 || statusCode > 3) {
            throw new IllegalArgumentException("status code must be 0 to 3, got " + statusCode);
        }
    }
}
