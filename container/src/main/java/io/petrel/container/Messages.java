package io.petrel.container;

/** OpenWhisk's texts for what went wrong in a container, word for word (clients and tests match on them). */
final class Messages {
    static final String ABNORMAL_INIT = "The action did not initialize and exited unexpectedly.";
    static final String ABNORMAL_RUN = "The action did not produce a valid response and exited unexpectedly.";
    static final String MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted.";
    static final String INVALID_RUN_RESPONSE = "The action did not produce a valid JSON response.";
    static final String LOG_FAILURE = "There was an issue while collecting your logs. Data might be missing.";
    static final String ARCHIVE_ERROR = "There was an error uncompressing the action archive.";

    private Messages() {}

    static String timedOut(long millis, boolean init) {
        return "The action exceeded its time limits of " + millis + " milliseconds" + (init ? " during initialization." : ".");
    }

    static String truncatedResponse(long length, long maxLength) {
        return "The action produced a response that exceeded the allowed length: " + length + " > " + maxLength + " bytes.";
    }

    static String truncatedLogs(long limitBytes) {
        return "Logs were truncated because the total bytes size exceeds the limit of " + limitBytes + " bytes.";
    }
}
