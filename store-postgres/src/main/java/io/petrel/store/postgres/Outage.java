package io.petrel.store.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs one line when the database becomes unreachable and one when it answers again (with how long it was
 * away), however many requests fail in between.
 */
final class Outage {
    private static final Logger LOG = LoggerFactory.getLogger(Outage.class);

    private final String where;
    /** When the current outage began (System.nanoTime), or 0 while the database answers. */
    private final AtomicLong since = new AtomicLong();

    Outage(String where) {
        this.where = where;
    }

    void failed(String why) {
        long now = System.nanoTime() | 1;
        if (since.compareAndSet(0, now)) {
            LOG.warn("PostgreSQL store at {} unreachable: {}; requests fail until it answers again", where, why);
        }
    }

    void ok() {
        long began = since.getAndSet(0);
        if (began != 0) {
            LOG.info("PostgreSQL store at {} answers again after {} ms", where, (System.nanoTime() - began) / 1_000_000);
        }
    }

    boolean down() {
        return since.get() != 0;
    }
}
