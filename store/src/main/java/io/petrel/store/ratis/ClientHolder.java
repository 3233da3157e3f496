package io.petrel.store.ratis;

import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

import static java.util.Objects.requireNonNull;

/**
 * The Raft client of a store handle, replaced after any failed request: Ratis closes an ordered
 * client's sliding window when a request fails for good (retries exhausted, or refused by the state
 * machine), and every later request on it would then fail at once. Failures are rare (a conflict is
 * an answer, not a failure), so a new client each time costs little.
 */
final class ClientHolder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClientHolder.class);

    private final RaftGroup group;
    private final StoreTuning tuning;
    private final RaftClient zoneReads;
    private volatile RaftClient client;
    private volatile boolean closed;

    ClientHolder(RaftGroup group, StoreTuning tuning) {
        this.group = requireNonNull(group, "group");
        this.tuning = requireNonNull(tuning, "tuning");
        this.client = RatisGroup.client(group, tuning);
        this.zoneReads = RatisGroup.singleAttemptClient(group);
    }

    RaftClient get() {
        return client;
    }

    /**
     * The client for reads served by one named zone without a quorum (stale reads). They go through
     * the blocking API of a client of their own: in Ratis's ordered async stream a stale read can
     * stall the writes queued behind it.
     */
    RaftClient zoneReads() {
        return zoneReads;
    }

    /** Called with the failure of a request sent on {@code used}; renews the client if that failure closed it. */
    void onFailure(RaftClient used, Throwable failure) {
        if (closed) {
            return;
        }
        synchronized (this) {
            if (client != used || closed) {
                return;
            }
            client = RatisGroup.client(group, tuning, used.getLeaderId());
        }
        LOG.info("store client renewed after: {}", failure.toString());
        // Not on this thread: it may be the spent client's own callback thread, which its close waits for.
        Thread.ofPlatform().name("petrel-client-close").daemon().start(() -> closeQuietly(used));
    }

    private static void closeQuietly(RaftClient c) {
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing a spent store client: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeQuietly(client);
        closeQuietly(zoneReads);
    }
}
