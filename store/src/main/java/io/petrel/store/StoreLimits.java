package io.petrel.store;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The sizes the store accepts. Big payloads (action code, artifacts) are split into chunks by their
 * owners, so a single value stays well below the consensus message limit.
 */
public record StoreLimits(int maxKeyBytes, int maxValueBytes, int maxOpsPerCommit, long maxCommitBytes, int maxScanLimit) {

    public static final StoreLimits DEFAULT = new StoreLimits(1024, 2 * 1024 * 1024, 256, 8L * 1024 * 1024, 1000);

    public void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new InvalidRequestException("key must not be empty");
        }
        int bytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxKeyBytes) {
            throw new InvalidRequestException("key is " + bytes + " bytes; the limit is " + maxKeyBytes);
        }
        if (key.indexOf('\0') >= 0) {
            throw new InvalidRequestException("key must not contain NUL characters");
        }
    }

    public void checkOps(List<Op> ops) {
        if (ops == null || ops.isEmpty()) {
            throw new InvalidRequestException("a commit needs at least one operation");
        }
        if (ops.size() > maxOpsPerCommit) {
            throw new InvalidRequestException("a commit has " + ops.size() + " operations; the limit is " + maxOpsPerCommit);
        }
        java.util.Set<String> keys = new java.util.HashSet<>();
        for (Op op : ops) {
            if (op == null) {
                throw new InvalidRequestException("a commit must not contain null operations");
            }
            checkKey(op.key());
            if (!keys.add(op.key())) {
                throw new InvalidRequestException("key '" + op.key() + "' appears twice in one commit");
            }
            if (op instanceof Op.Put put) {
                if (put.value().length > maxValueBytes) {
                    throw new InvalidRequestException("value for key '" + put.key() + "' is " + put.value().length
                            + " bytes; the limit is " + maxValueBytes);
                }
                if (put.leaseId() < 0) {
                    throw new InvalidRequestException("lease id must not be negative");
                }
            }
        }
        long total = commitBytes(ops);
        if (total > maxCommitBytes) {
            throw new InvalidRequestException("a commit holds " + total + " bytes; the limit is " + maxCommitBytes);
        }
    }

    /** The size of a commit as {@link #maxCommitBytes} counts it: its keys and its values. */
    public static long commitBytes(List<Op> ops) {
        long bytes = 0;
        for (Op op : ops) {
            bytes += op.key().length() + (op instanceof Op.Put put ? put.value().length : 0);
        }
        return bytes;
    }

    public void checkScan(ScanRequest request) {
        if (request.limit() > maxScanLimit) {
            throw new InvalidRequestException("scan: limit " + request.limit() + " is above the maximum " + maxScanLimit);
        }
    }
}
