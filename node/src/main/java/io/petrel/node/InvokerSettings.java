package io.petrel.node;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * Whether and how a zone runs actions: {@code invoker.enabled} (default true), the {@code invoker.*}
 * pool keys (read by the invoker), {@code invoker.api.host} (what actions get as {@code __OW_API_HOST};
 * default this zone's own API), {@code invoker.containers} (the folder of the launchers and the
 * containers' work directories; default one under the system's temporary folder, outside the data
 * folder, so that no container's user has to be let into the data folder), and {@code throttle.enabled} (default true: the namespaces'
 * invocation limits hold).
 */
public record InvokerSettings(boolean enabled, Properties pool, Optional<String> apiHost, Optional<Path> containersDir,
                              boolean throttles) {
    public InvokerSettings {
        requireNonNull(pool, "pool");
        requireNonNull(apiHost, "apiHost");
        requireNonNull(containersDir, "containersDir");
    }

    public static InvokerSettings fromProperties(Properties p) {
        Properties pool = new Properties();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("invoker.")) {
                pool.setProperty(key, p.getProperty(key).trim());
            }
        }
        String host = p.getProperty("invoker.api.host", "").trim();
        String dir = p.getProperty("invoker.containers", "").trim();
        return new InvokerSettings(Boolean.parseBoolean(p.getProperty("invoker.enabled", "true").trim()), pool,
                host.isEmpty() ? Optional.empty() : Optional.of(host), dir.isEmpty() ? Optional.empty() : Optional.of(Path.of(dir)),
                Boolean.parseBoolean(p.getProperty("throttle.enabled", "true").trim()));
    }

    public static InvokerSettings disabled() {
        return new InvokerSettings(false, new Properties(), Optional.empty(), Optional.empty(), true);
    }
}
