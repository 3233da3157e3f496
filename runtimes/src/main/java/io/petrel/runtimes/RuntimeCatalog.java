package io.petrel.runtimes;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * The kinds of action this machine can run, and how to start a container of each.
 *
 * <p>{@link #detect} probes the interpreters once, so that a kind is offered only if its interpreter
 * really answered, and writes the launchers into a folder that containers read.
 */
public final class RuntimeCatalog {
    private static final Logger log = LoggerFactory.getLogger(RuntimeCatalog.class);

    // A cold interpreter on a loaded machine (or a pyenv shim) can take a second or two; a hung one is broken.
    private static final long PROBE_TIMEOUT_SECONDS = 5;
    private static final int MIN_NODE_MAJOR = 18;
    private static final int MIN_PYTHON_MINOR = 8;
    private static final Path DEBIAN_PYTHON = Path.of("/usr/bin/python3");
    private static final Path USR = Path.of("/usr");
    // One probe prints all we need; sys.executable is the real interpreter even when started through a shim.
    private static final String PYTHON_PROBE =
            "import sys; print(sys.executable); print(sys.version_info[0]); print(sys.version_info[1]); print(sys.prefix); print(sys.base_prefix)";
    private static final Pattern NODE_VERSION = Pattern.compile("v(\\d+)\\.\\d+\\.\\d+.*");

    private final Path launcherDir;
    private final List<RuntimeKind> kinds;
    private final Optional<Path> javaClassArchive;

    private RuntimeCatalog(Path launcherDir, List<RuntimeKind> kinds, Optional<Path> javaClassArchive) {
        this.launcherDir = requireNonNull(launcherDir, "launcherDir");
        this.kinds = List.copyOf(kinds);
        this.javaClassArchive = requireNonNull(javaClassArchive, "javaClassArchive");
    }

    /**
     * Writes the launchers into {@code launcherDir} (created if absent; rewritten only where they
     * changed) and probes the interpreters. A missing or broken interpreter leaves its kind out.
     */
    public static RuntimeCatalog detect(Path launcherDir) throws IOException {
        Path dir = launcherDir.toAbsolutePath().normalize();
        new LauncherFolder(dir).write();
        List<RuntimeKind> kinds = new ArrayList<>();
        nodejs().ifPresent(kinds::add);
        python().ifPresent(kinds::add);
        Optional<RuntimeKind> java = java();
        java.ifPresent(kinds::add);
        Optional<Path> archive = java.flatMap(kind -> JavaClassArchive.prepare(dir, kind.interpreter(), javaVmOptions(dir)));
        log.info("Runtime kinds: {} (launchers in {}{})",
                kinds.stream().map(kind -> kind.kind() + " " + kind.interpreter()).collect(Collectors.joining(", ")), dir,
                archive.isPresent() ? ", java class data archive" : "");
        return new RuntimeCatalog(dir, kinds, archive);
    }

    /** The kinds this machine can run. */
    public List<RuntimeKind> kinds() {
        return kinds;
    }

    /** The kind {@code requested} names: a kind, an alias or {@code <family>:default}; case and outer spaces do not matter. */
    public Optional<RuntimeKind> resolve(String requested) {
        String name = requested.strip().toLowerCase(Locale.ROOT);
        for (RuntimeKind kind : kinds) {
            if (kind.kind().equals(name) || kind.aliases().contains(name)) {
                return Optional.of(kind);
            }
        }
        if (name.endsWith(":default")) {
            String family = name.substring(0, name.length() - ":default".length());
            return kinds.stream().filter(kind -> kind.isDefault() && kind.family().equals(family)).findFirst();
        }
        return Optional.empty();
    }

    /** The folder holding the launchers; containers must be able to read it. */
    public Path launcherDir() {
        return launcherDir;
    }

    /**
     * The argv that starts a container of {@code kind} with {@code memoryMb} of memory: its interpreter
     * running the launcher from {@link #launcherDir()}. The heap is sized below the limit, leaving room
     * for the interpreter's own memory, so that the action gets an out-of-memory error of its
     * language before the container's limit kills it.
     */
    public List<String> command(RuntimeKind kind, int memoryMb) {
        requireNonNull(kind, "kind");
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memoryMb must be positive: " + memoryMb);
        }
        String interpreter = kind.interpreter().toString();
        return switch (kind.family()) {
            case "nodejs" -> List.of(
                    interpreter,
                    "--max-old-space-size=" + Math.max(16, memoryMb * 3 / 4),
                    launcherDir.resolve(LauncherFolder.NODE_LAUNCHER).toString());
            // -u: the action's prints reach the log as they happen, not when a buffer fills.
            // -X utf8: a container's environment is clean, so there is no locale to say UTF-8.
            // Not -S or -I: actions import site-packages and dist-packages modules.
            case "python" -> List.of(
                    interpreter, "-u", "-X", "utf8",
                    launcherDir.resolve(LauncherFolder.PYTHON_LAUNCHER).toString());
            case "java" -> javaCommand(interpreter, memoryMb);
            default -> throw new IllegalArgumentException("Not a kind this catalog knows how to start: " + kind.kind());
        };
    }

    private List<String> javaCommand(String interpreter, int memoryMb) {
        List<String> command = new ArrayList<>();
        command.add(interpreter);
        command.add("-Xshare:auto");
        javaClassArchive.ifPresent(archive -> command.add("-XX:SharedArchiveFile=" + archive));
        command.addAll(javaVmOptions(launcherDir));
        command.add("-Xss512k");
        command.add("-XX:MaxRAM=" + memoryMb + "m");
        command.add("-Xmx" + Math.max(16, memoryMb * 6 / 10) + "m");
        command.add("-jar");
        command.add(launcherDir.resolve(LauncherFolder.JAVA_LAUNCHER_JAR).toString());
        return List.copyOf(command);
    }

    /**
     * The options of every java container, and of the run that makes the class data archive: it must
     * match them. The launcher jar (started with {@code -jar}) names Gson and its opened package itself.
     */
    private static List<String> javaVmOptions(Path launcherDir) {
        return List.of(
                // Start-up over peak speed: one GC thread, C1 only.
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                // The JVM's own warnings (GC, CDS) go to stderr, never between the action's stdout lines.
                "-Xlog:disable", "-Xlog:all=warning:stderr",
                // A clean environment has no locale: without these System.out would write '?' for non-ASCII.
                "-Dstdout.encoding=UTF-8", "-Dstderr.encoding=UTF-8");
    }

    @Override
    public String toString() {
        return "RuntimeCatalog" + kinds.stream().map(RuntimeKind::kind).toList() + " in " + launcherDir;
    }

    private static Optional<RuntimeKind> nodejs() {
        Optional<Path> found = onPath("node");
        if (found.isEmpty()) {
            log.info("No nodejs kind: no node on the PATH");
            return Optional.empty();
        }
        try {
            Path node = found.get().toRealPath();
            List<String> out = probe(List.of(node.toString(), "--version"));
            Matcher version = out.isEmpty() ? null : NODE_VERSION.matcher(out.get(0).strip());
            if (version == null || !version.matches()) {
                log.info("No nodejs kind: {} --version answered {}", node, out);
                return Optional.empty();
            }
            int major = Integer.parseInt(version.group(1));
            if (major < MIN_NODE_MAJOR) {
                log.info("No nodejs kind: {} is Node.js {}, older than {}", node, major, MIN_NODE_MAJOR);
                return Optional.empty();
            }
            // <prefix>/bin/node: its lib/node_modules and include are the install.
            Set<Path> roots = new LinkedHashSet<>();
            Path prefix = node.getParent() == null ? null : node.getParent().getParent();
            addRoot(roots, prefix);
            return Optional.of(new RuntimeKind("nodejs:" + major, "nodejs", true, false, true, List.of(), node, List.copyOf(roots)));
        }
        catch (IOException e) {
            log.info("No nodejs kind: {} does not run: {}", found.get(), e.toString());
            return Optional.empty();
        }
    }

    private static Optional<RuntimeKind> python() {
        // Debian's python first: a PATH python may be a pyenv shim, a bash script that costs ~100 ms a start.
        Optional<Path> found = Files.isExecutable(DEBIAN_PYTHON) ? Optional.of(DEBIAN_PYTHON) : onPath("python3");
        if (found.isEmpty()) {
            log.info("No python kind: no /usr/bin/python3 and no python3 on the PATH");
            return Optional.empty();
        }
        try {
            List<String> out = probe(List.of(found.get().toString(), "-c", PYTHON_PROBE));
            if (out.size() < 5 || out.get(0).isBlank() || !out.get(1).equals("3")) {
                log.info("No python kind: {} answered {}", found.get(), out);
                return Optional.empty();
            }
            int minor = Integer.parseInt(out.get(2));
            if (minor < MIN_PYTHON_MINOR) {
                log.info("No python kind: {} is Python 3.{}, older than 3.{}", found.get(), minor, MIN_PYTHON_MINOR);
                return Optional.empty();
            }
            Path executable = Path.of(out.get(0)).toAbsolutePath();
            if (!Files.isExecutable(executable)) {
                log.info("No python kind: {} says it is {}, which is not executable", found.get(), executable);
                return Optional.empty();
            }
            Set<Path> roots = new LinkedHashSet<>();
            addRoot(roots, Path.of(out.get(3)));
            addRoot(roots, Path.of(out.get(4)));
            return Optional.of(new RuntimeKind("python:3." + minor, "python", true, false, false, List.of("python:3"), executable, List.copyOf(roots)));
        }
        catch (IOException | RuntimeException e) {
            log.info("No python kind: {} does not run: {}", found.get(), e.toString());
            return Optional.empty();
        }
    }

    private static Optional<RuntimeKind> java() {
        // The JVM Petrel runs on: no probe needed, it is running this very code.
        if (Runtime.version().feature() < 21) {
            log.info("No java kind: this JVM is Java {}, older than 21", Runtime.version().feature());
            return Optional.empty();
        }
        Path home = Path.of(System.getProperty("java.home"));
        Path java = home.resolve("bin").resolve("java");
        if (!Files.isExecutable(java)) {
            log.info("No java kind: this JVM has no {}", java);
            return Optional.empty();
        }
        Path root;
        try {
            root = home.toRealPath();
        }
        catch (IOException e) {
            root = home;
        }
        return Optional.of(new RuntimeKind("java:21", "java", true, true, true, List.of(), java, List.of(root)));
    }

    /** Adds {@code root} unless /usr already holds it (a sandbox always binds /usr). */
    private static void addRoot(Set<Path> roots, Path root) {
        if (root == null || root.toString().isEmpty()) {
            return;
        }
        Path normal = root.toAbsolutePath().normalize();
        try {
            normal = normal.toRealPath();
        }
        catch (IOException ignored) {
            // a prefix that does not exist is still what the interpreter would look for
        }
        if (!normal.startsWith(USR)) {
            roots.add(normal);
        }
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name).toAbsolutePath();
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Runs {@code command} and answers its stdout lines; an interpreter that hangs or fails is broken. */
    private static List<String> probe(List<String> command) throws IOException {
        Path out = Files.createTempFile("petrel-probe", ".out");
        try {
            // Output to a file, not a pipe: a shim's child could hold a pipe open after a timeout.
            Process process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            boolean exited;
            try {
                exited = process.waitFor(PROBE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                throw new IOException("interrupted while probing " + command.get(0), e);
            }
            if (!exited) {
                process.destroyForcibly();
                throw new IOException("no answer within " + PROBE_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new IOException("exit status " + process.exitValue());
            }
            return Files.readAllLines(out, StandardCharsets.UTF_8);
        }
        finally {
            Files.deleteIfExists(out);
        }
    }
}
