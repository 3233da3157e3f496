package io.petrel.runtimes;

import io.petrel.runtimes.java.JavaActionLauncher;
import io.petrel.runtimes.java.Warmup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An AppCDS archive of the Java launcher's classes (and Gson's), made once per launcher folder with
 * {@code -XX:ArchiveClassesAtExit}: it takes about a third off a Java container's start.
 *
 * <p>An archive is tied to the exact JVM and to the launcher jars (path, size, mtime). With
 * {@code -Xshare:auto} a JVM that cannot use it silently goes on without it, so a stale archive only
 * costs time; still, every detect checks it with {@code -Xshare:on} (which fails instead) and makes a
 * new one if the check fails. Anything going wrong here leaves the archive out, never the kind.
 */
final class JavaClassArchive {
    private static final Logger log = LoggerFactory.getLogger(JavaClassArchive.class);
    static final String ARCHIVE = "java/launcher.jsa";
    private static final long TIMEOUT_SECONDS = 30;

    private JavaClassArchive() {}

    /**
     * A usable archive for {@code java} running with {@code vmOptions} (those of every container,
     * class path included), made if missing or stale.
     */
    static Optional<Path> prepare(Path launcherDir, Path java, List<String> vmOptions) {
        Path archive = launcherDir.resolve(ARCHIVE);
        try {
            if (Files.isRegularFile(archive) && usable(launcherDir, java, vmOptions, archive)) {
                return Optional.of(archive);
            }
            Path temp = Files.createTempFile(archive.getParent(), ".launcher", ".jsa");
            try {
                Files.delete(temp); // the JVM writes it at exit
                train(launcherDir, java, vmOptions, temp);
                if (!Files.isRegularFile(temp) || !usable(launcherDir, java, vmOptions, temp)) {
                    log.info("No class data archive for the java launcher: the JVM made none it can use; java containers start without");
                    return Optional.empty();
                }
                Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
                try {
                    Files.move(temp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
                catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, archive, StandardCopyOption.REPLACE_EXISTING);
                }
                return Optional.of(archive);
            }
            finally {
                Files.deleteIfExists(temp);
            }
        }
        catch (IOException e) {
            log.info("No class data archive for the java launcher ({}); java containers start without", e.toString());
            return Optional.empty();
        }
    }

    /** Runs the launcher through an init and a few runs of {@link Warmup}; the JVM writes the archive as it exits. */
    private static void train(Path launcherDir, Path java, List<String> vmOptions, Path archive) throws IOException {
        Path jar = launcherDir.resolve(LauncherFolder.JAVA_LAUNCHER_JAR);
        StringBuilder input = new StringBuilder();
        input.append("{\"init\":{\"name\":\"/petrel/warmup\",\"main\":\"").append(Warmup.class.getName())
                .append("\",\"code\":null,\"path\":").append(quote(jar.toString())).append(",\"env\":{\"WARM\":\"1\"}}}\n");
        for (int i = 0; i < 3; i++) {
            input.append("{\"run\":{\"value\":{\"n\":").append(i).append(",\"list\":[1,2.5,true,null,\"é\"],\"o\":{}},")
                    .append("\"namespace\":\"petrel\",\"activation_id\":\"").append(String.format("%032x", i)).append("\"}}\n");
        }
        Path stdin = Files.createTempFile(archive.getParent(), ".warmup", ".in");
        try {
            Files.writeString(stdin, input, StandardCharsets.UTF_8);
            List<String> command = new ArrayList<>();
            command.add(java.toString());
            command.add("-XX:ArchiveClassesAtExit=" + archive);
            command.add("-D" + JavaActionLauncher.ANSWERS_PROPERTY + "=/dev/null");
            command.addAll(vmOptions);
            command.add("-jar");
            command.add(jar.toString());
            int status = run(command, stdin.toFile());
            if (status != 0) {
                throw new IOException("the training run exited with " + status);
            }
        }
        finally {
            Files.deleteIfExists(stdin);
        }
    }

    /** Starts the launcher as a container does, on the archive only (-Xshare:on), with no input: it must exit 0. */
    private static boolean usable(Path launcherDir, Path java, List<String> vmOptions, Path archive) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.add("-Xshare:on");
        command.add("-XX:SharedArchiveFile=" + archive);
        command.add("-D" + JavaActionLauncher.ANSWERS_PROPERTY + "=/dev/null");
        command.addAll(vmOptions);
        command.add("-jar");
        command.add(launcherDir.resolve(LauncherFolder.JAVA_LAUNCHER_JAR).toString());
        return run(command, new File("/dev/null")) == 0;
    }

    private static int run(List<String> command, File stdin) throws IOException {
        Process process = new ProcessBuilder(command)
                .redirectInput(stdin)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("no exit within " + TIMEOUT_SECONDS + " s: " + String.join(" ", command));
            }
            return process.exitValue();
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted", e);
        }
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
