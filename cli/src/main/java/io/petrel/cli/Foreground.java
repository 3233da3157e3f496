package io.petrel.cli;

import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** What {@code petrel node} and {@code petrel gateway} share: a service that runs in this process until SIGTERM. */
final class Foreground {
    /** Set while a service runs, so that main() does not exit the JVM under it. */
    static final AtomicBoolean RUNNING = new AtomicBoolean();

    private Foreground() {
    }

    /** Blocks until SIGTERM (or Ctrl-C), then closes {@code service}, which drains and stops it. */
    static int runUntilStopped(AutoCloseable service) throws InterruptedException {
        RUNNING.set(true);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                service.close();
            } catch (Exception e) {
                System.err.println("petrel: did not stop cleanly: " + e);
            } finally {
                stopped.countDown();
            }
        }, "petrel-shutdown"));
        stopped.await();
        return 0;
    }

    /** Sets {@code key} to a flag's value, when the flag was given: flags override the configuration file. */
    static void override(Properties p, String key, String value) {
        if (value != null) {
            p.setProperty(key, value);
        }
    }
}
