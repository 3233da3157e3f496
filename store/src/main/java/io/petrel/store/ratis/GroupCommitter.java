package io.petrel.store.ratis;

import org.apache.ratis.client.RaftClient;
import java.util.concurrent.CompletionException;
import org.apache.ratis.protocol.RaftClientReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * Group commit: writes that arrive while earlier ones are in flight are sent together as one log
 * entry, so throughput grows with concurrency instead of being capped at one consensus round per
 * write. A lone writer is sent at once, so it pays no batching delay.
 */
final class GroupCommitter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitter.class);
    static final int MAX_COMMANDS_PER_ENTRY = 1024;
    /**
     * Writes that arrive together share an entry up to this size; a single write may be as large as a
     * commit may be ({@code StoreLimits}). The consensus log must take an entry of either size (see
     * {@code ZoneReplica.MAX_LOG_ENTRY_BYTES}).
     */
    static final long MAX_BYTES_PER_ENTRY = 8L * 1024 * 1024;
    static final int MAX_ENTRIES_IN_FLIGHT = 4;

    private final ClientHolder clients;
    private final Duration deadline;
    private final Function<Throwable, RuntimeException> errors;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Semaphore inFlight = new Semaphore(MAX_ENTRIES_IN_FLIGHT);
    private final Thread sender;
    private volatile boolean closed;

    private record Pending(WriteCmd cmd, CompletableFuture<WriteResult> result) {
    }

    /**
     * @param deadline how long one log entry may take to be acknowledged before its writes fail (as "no
     *                 quorum") and the client is replaced. The client's retries are a count, and each attempt
     *                 may wait a whole request timeout on a frozen zone, which adds up to minutes; without the
     *                 deadline such a request holds one of the few in-flight slots, and in the ordered stream
     *                 every write queued behind it, that long
     */
    GroupCommitter(String name, ClientHolder clients, Duration deadline, Function<Throwable, RuntimeException> errors) {
        this.clients = requireNonNull(clients, "clients");
        this.deadline = requireNonNull(deadline, "deadline");
        this.errors = requireNonNull(errors, "errors");
        this.sender = Thread.ofPlatform().name("petrel-commit-" + name).daemon().start(this::run);
    }

    CompletableFuture<WriteResult> submit(WriteCmd cmd) {
        CompletableFuture<WriteResult> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new IllegalStateException("store client is closed"));
            return f;
        }
        queue.add(new Pending(cmd, f));
        return f;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (!closed) {
            try {
                inFlight.acquire();
                Pending first = queue.take();
                batch.add(first);
                long bytes = first.cmd().approximateBytes();
                Pending next;
                // Only this thread takes from the queue, so what it peeks at is what it then takes.
                while (batch.size() < MAX_COMMANDS_PER_ENTRY && (next = queue.peek()) != null
                        && bytes + next.cmd().approximateBytes() <= MAX_BYTES_PER_ENTRY) {
                    batch.add(queue.poll());
                    bytes += next.cmd().approximateBytes();
                }
                send(List.copyOf(batch));
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        RuntimeException gone = new IllegalStateException("store client is closed");
        batch.forEach(p -> p.result().completeExceptionally(gone));
        queue.forEach(p -> p.result().completeExceptionally(gone));
    }

    private void send(List<Pending> batch) {
        CompletableFuture<RaftClientReply> reply;
        RaftClient client = clients.get();
        try {
            reply = client.async().send(Codec.writeRequest(batch.stream().map(Pending::cmd).toList()))
                    .orTimeout(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            inFlight.release();
            fail(batch, e);
            return;
        }
        reply.whenComplete((r, t) -> {
            inFlight.release();
            if (t != null) {
                clients.onFailure(client, t instanceof CompletionException && t.getCause() != null ? t.getCause() : t);
                fail(batch, t);
            } else if (!r.isSuccess()) {
                clients.onFailure(client, r.getException());
                fail(batch, r.getException());
            } else {
                try {
                    List<WriteResult> results = Codec.decodeWriteReply(r.getMessage().getContent());
                    if (results.size() != batch.size()) {
                        throw new IllegalStateException("the store answered " + results.size() + " results for " + batch.size() + " writes");
                    }
                    for (int i = 0; i < batch.size(); i++) {
                        batch.get(i).result().complete(results.get(i));
                    }
                } catch (RuntimeException e) {
                    LOG.error("undecodable reply to a write batch", e);
                    fail(batch, e);
                }
            }
        });
    }

    private void fail(List<Pending> batch, Throwable t) {
        RuntimeException e = errors.apply(t);
        batch.forEach(p -> p.result().completeExceptionally(e));
    }

    @Override
    public void close() {
        closed = true;
        sender.interrupt();
    }
}
