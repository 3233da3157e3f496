package io.petrel.api.transfer;

import io.petrel.api.http.Exchange;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Sends {@code 102 Processing} on an exchange every two seconds while a transfer works without
 * answering (an export being written, an import being applied). The gateway drops an attempt whose
 * zone says nothing for its attempt timeout (10 s by default), and these interim answers are what it
 * hears meanwhile; clients skip them and wait for the final answer.
 */
final class Heartbeat implements AutoCloseable {
    static final Duration EVERY = Duration.ofSeconds(2);
    private static final int PROCESSING = 102;

    private final Exchange exchange;
    private final Object lock = new Object();
    private boolean running = true;
    private final Thread thread;

    private Heartbeat(Exchange exchange) {
        this.exchange = requireNonNull(exchange, "exchange");
        this.thread = Thread.ofVirtual().name("transfer-heartbeat").start(this::beat);
    }

    static Heartbeat start(Exchange exchange) {
        return new Heartbeat(exchange);
    }

    private void beat() {
        while (true) {
            synchronized (lock) {
                long until = System.nanoTime() + EVERY.toNanos();
                while (running && System.nanoTime() < until) {
                    try {
                        lock.wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (!running) {
                    return;
                }
            }
            // Never interrupted while sending: the final answer must not start while an interim one is half written.
            if (!exchange.interim(PROCESSING)) {
                return;
            }
        }
    }

    /** Stops beating; returns once no interim answer is being written, so the final answer may start. */
    @Override
    public void close() {
        synchronized (lock) {
            running = false;
            lock.notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
