package io.petrel.store.ratis;

import io.petrel.store.Watch;
import io.petrel.store.WatchEvent;
import io.petrel.store.WatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Delivers the changes the local replica applies to the watchers registered in this process, in
 * revision order, on one thread of its own so that a slow watcher never slows the apply path.
 */
final class WatchHub implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WatchHub.class);

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final ExecutorService dispatcher;

    WatchHub(String zone) {
        this.dispatcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "petrel-watch-" + zone);
            t.setDaemon(true);
            return t;
        });
    }

    Watch register(String prefix, WatchListener listener) {
        Registration r = new Registration(prefix, listener);
        registrations.add(r);
        return () -> registrations.remove(r);
    }

    void publish(List<WatchEvent> events) {
        if (events.isEmpty() || registrations.isEmpty()) {
            return;
        }
        dispatcher.execute(() -> {
            for (WatchEvent e : events) {
                for (Registration r : registrations) {
                    if (e.type() == WatchEvent.Type.RESET || e.kv().key().startsWith(r.prefix())) {
                        try {
                            r.listener().onEvent(e);
                        } catch (RuntimeException ex) {
                            LOG.warn("watcher on '{}' failed on revision {}: {}", r.prefix(), e.revision(), ex.toString());
                        }
                    }
                }
            }
        });
    }

    @Override
    public void close() {
        dispatcher.shutdownNow();
    }

    private record Registration(String prefix, WatchListener listener) {
    }
}
