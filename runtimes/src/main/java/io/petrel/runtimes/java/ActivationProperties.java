package io.petrel.runtimes.java;

import java.util.Map;
import java.util.Properties;

/**
 * The system properties of a Java action's JVM, with the {@code __OW_*} values of the activation the
 * calling thread works for laid over them.
 *
 * <p>A JVM cannot change its own environment, so {@code __OW_*} values reach Java actions as system
 * properties. Concurrent activations share one JVM, so a plain {@code System.setProperty} would let one
 * activation read another's id; the per-thread layer keeps {@code System.getProperty("__OW_ACTIVATION_ID")}
 * right on the activation's thread and on threads it starts.
 */
final class ActivationProperties extends Properties {
    private static final long serialVersionUID = 1L;

    private final transient InheritableThreadLocal<Map<String, String>> activation = new InheritableThreadLocal<>();

    ActivationProperties(Properties initial) {
        putAll(initial);
    }

    void enter(Map<String, String> values) {
        activation.set(Map.copyOf(values));
    }

    void leave() {
        activation.remove();
    }

    @Override
    public String getProperty(String key) {
        Map<String, String> values = activation.get();
        if (values != null) {
            String value = values.get(key);
            if (value != null) {
                return value;
            }
        }
        return super.getProperty(key);
    }

    @Override
    public String getProperty(String key, String defaultValue) {
        String value = getProperty(key);
        return value == null ? defaultValue : value;
    }
}
