package io.petrel.runtimes.java;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * Makes init parameters and {@code __OW_*} values visible through {@code System.getenv}, which is
 * where Java actions written for OpenWhisk and IBM Cloud Functions read them: their runtime puts
 * them into the JVM's environment map, and so does this one. A JVM cannot change its real
 * environment, so the map {@code System.getenv} reads is changed in place; that takes
 * {@code --add-opens java.base/java.util=ALL-UNNAMED}, which the container's command line gives.
 * Without it, the values are only system properties ({@link ActivationProperties}).
 */
final class ProcessEnvironment {
    private final Map<String, String> writable;

    private ProcessEnvironment(Map<String, String> writable) {
        this.writable = writable;
    }

    /** The environment as a writable map, or null when the JVM does not let it be opened. */
    static ProcessEnvironment open() {
        try {
            Map<String, String> env = System.getenv();
            Field inner = Class.forName("java.util.Collections$UnmodifiableMap").getDeclaredField("m");
            inner.setAccessible(true);
            @SuppressWarnings("unchecked")
            Map<String, String> backing = (Map<String, String>) inner.get(env);
            return new ProcessEnvironment(backing);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    void putAll(Map<String, String> values) {
        synchronized (writable) {
            writable.putAll(values);
        }
    }

    void remove(Iterable<String> keys) {
        synchronized (writable) {
            for (String k : keys) {
                writable.remove(k);
            }
        }
    }
}
