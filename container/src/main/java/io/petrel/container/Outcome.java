package io.petrel.container;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * How an init or a run ended.
 *
 * @param statusCode      OpenWhisk's: 0 success, 1 application error (result has {@code error}), 2 action
 *                        developer error, 3 whisk internal error
 * @param result          the result; for errors 2 and 3 {@code {"error": "<OpenWhisk's message>"}}
 * @param logs            {@code "<ISO-8601 time> stdout: text"} lines (the time always has nine fraction
 *                        digits, so OpenWhisk's 30-column time is followed by one space), cut to the log limit;
 *                        empty for a successful init (what the code printed while loading goes to the first
 *                        run's logs) and when several activations share the container; a failed init has what the
 *                        code printed
 * @param timedOut        the time limit ended it (the container was killed)
 * @param containerUsable whether the container may run again; false means the caller must close it
 */
public record Outcome(int statusCode, JsonNode result, List<String> logs, long startMillis, long endMillis, boolean timedOut,
                      boolean containerUsable) {
    public Outcome {
        requireNonNull(result, "result");
        logs = List.copyOf(logs);
    }
}
