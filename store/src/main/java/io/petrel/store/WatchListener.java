package io.petrel.store;

/** Receives {@link WatchEvent}s in revision order; must not block for long. */
@FunctionalInterface
public interface WatchListener {
    void onEvent(WatchEvent event);
}
