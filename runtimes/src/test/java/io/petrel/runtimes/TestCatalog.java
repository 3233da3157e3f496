package io.petrel.runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** One catalog for all the tests of this JVM: detecting writes the launcher folder and probes, once. */
final class TestCatalog {
    private TestCatalog() {}

    private static final class Holder {
        static final RuntimeCatalog CATALOG = detect();

        private static RuntimeCatalog detect() {
            try {
                return RuntimeCatalog.detect(Path.of("target", "test-launchers"));
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static RuntimeCatalog get() {
        return Holder.CATALOG;
    }

    /** The default kind of {@code family}; the test is skipped when this machine has none. */
    static RuntimeKind kind(String family) {
        var kind = get().resolve(family + ":default");
        assumeTrue(kind.isPresent(), "No " + family + " interpreter on this machine: " + family + " launcher tests skipped");
        return kind.get();
    }
}
