package io.petrel.runtimes;

import java.nio.file.Path;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A kind of action this machine can really run: its interpreter was found and answered.
 *
 * @param kind          the kind's name ({@code nodejs:20}, {@code python:3.11}, {@code java:21})
 * @param family        {@code nodejs}, {@code python}, {@code java}
 * @param isDefault     whether {@code <family>:default} means this kind
 * @param requiresMain  whether an action must name its main (java: the class)
 * @param concurrent    whether one container may run several activations at once
 * @param aliases       other names of the same kind ({@code python:3})
 * @param interpreter   the executable that runs the launcher
 * @param installRoots  folders the interpreter needs to read (a sandbox binds them read-only)
 */
public record RuntimeKind(String kind, String family, boolean isDefault, boolean requiresMain, boolean concurrent,
                          List<String> aliases, Path interpreter, List<Path> installRoots) {
    public RuntimeKind {
        requireNonNull(kind, "kind");
        requireNonNull(family, "family");
        aliases = List.copyOf(aliases);
        requireNonNull(interpreter, "interpreter");
        installRoots = List.copyOf(installRoots);
    }
}
