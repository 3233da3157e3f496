package io.petrel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One runtime launcher run directly, with no platform in between: the floor of an invocation. It is
 * started as a container starts it (a clean environment, its own work directory, requests on stdin,
 * answers on fd 3, logs on stdout and stderr), but with no sandbox, cgroup or pool.
 *
 * <p>fd 3 is always a FIFO made here and opened by {@code bash} right before it execs the launcher:
 * a launcher started with any other fd 3 (a JVM's own fd 3 is its {@code lib/modules}) would write its
 * answers into that file. The FIFO is checked to be one before the process starts, and the shell
 * refuses to exec if the path is not a FIFO then.
 */
final class RuntimeProcess implements AutoCloseable {
    static final String MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";
    private static final String EOF = new String("<eof>"); // compared by identity
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path fifo;
    private final OutputStream stdin;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> stderr = new LinkedBlockingQueue<>();

    private RuntimeProcess(Process process, Path fifo) {
        this.process = requireNonNull(process, "process");
        this.fifo = requireNonNull(fifo, "fifo");
        this.stdin = process.getOutputStream();
        pump("floor-stdout", process.getInputStream(), stdout);
        pump("floor-stderr", process.getErrorStream(), stderr);
        Thread.ofPlatform().daemon().name("floor-answers").start(() -> {
            // Opening a FIFO for reading blocks until the launcher's side opens it for writing.
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                drain(in, answers);
            } catch (IOException e) {
                answers.add(EOF);
            }
        });
    }

    /** Starts {@code command} (from {@code RuntimeCatalog.command}) in {@code workDir}, a folder of its own. */
    static RuntimeProcess start(List<String> command, Path workDir) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Files.createDirectories(workDir.resolve("tmp"));
        Path fifo = workDir.resolve(".answers.fifo");
        Files.deleteIfExists(fifo);
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).inheritIO().start();
        if (mkfifo.waitFor() != 0) {
            throw new IOException("mkfifo " + fifo + " failed");
        }
        BasicFileAttributes attributes = Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isOther() || attributes.isRegularFile() || attributes.isDirectory() || attributes.isSymbolicLink()) {
            throw new IOException(fifo + " is not a FIFO: refusing to start a launcher without its answer channel");
        }
        // [ -p ]: never exec with fd 3 on anything but the FIFO (a missing path would become a regular file).
        List<String> argv = new ArrayList<>(List.of("/bin/bash", "-c", "[ -p \"$0\" ] || exit 97; exec \"$@\" 3>\"$0\"", fifo.toString()));
        argv.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(argv).directory(workDir.toFile());
        // The environment a container gets (container/README.md), without a sandbox.
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
        builder.environment().put("HOME", workDir.toString());
        builder.environment().put("LANG", "C.UTF-8");
        builder.environment().put("TMPDIR", workDir.resolve("tmp").toString());
        return new RuntimeProcess(builder.start(), fifo);
    }

    private static void pump(String name, InputStream in, BlockingQueue<String> lines) {
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try (in) {
                drain(in, lines);
            } catch (IOException e) {
                lines.add(EOF);
            }
        });
    }

    private static void drain(InputStream in, BlockingQueue<String> lines) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        while ((line = reader.readLine()) != null) {
            lines.add(line);
        }
        lines.add(EOF);
    }

    private void send(String line) throws IOException {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /** The init line of plain code; the launcher must answer {@code {"ok":true}}. */
    void init(String name, String code) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("name", name).put("main", "main").put("code", code).putNull("path");
        body.putObject("env");
        init(body);
    }

    /** The init line with {@code body} as its {@code init}; the launcher must answer {@code {"ok":true}}. */
    void init(ObjectNode body) throws IOException {
        ObjectNode init = JSON.createObjectNode();
        init.set("init", body);
        send(JSON.writeValueAsString(init));
        JsonNode answer = JSON.readTree(take(answers, "the init's answer"));
        if (!answer.path("ok").asBoolean(false)) {
            throw new IOException("the launcher refused the init: " + answer);
        }
    }

    /** A run line as a container sends it (runtimes/README.md), with an empty value. */
    static String runLine(String namespace, String actionName, String activationId, long seq) {
        return "{\"run\":{\"value\":{},\"namespace\":\"" + namespace + "\",\"action_name\":\"" + actionName + "\","
                + "\"action_version\":\"0.0.1\",\"activation_id\":\"" + activationId + "\",\"transaction_id\":\"floor-" + seq + "\","
                + "\"deadline\":\"" + (System.currentTimeMillis() + 60_000) + "\"}}";
    }

    /**
     * One run, as a container does it with one activation at a time: the run line, its answer on fd 3,
     * then the end markers on stdout and stderr (the activation's logs end there). Answers the result.
     */
    JsonNode run(String runLine, String activationId) throws IOException {
        send(runLine);
        JsonNode answer = JSON.readTree(take(answers, "an answer"));
        untilMarker(stdout, "stdout");
        untilMarker(stderr, "stderr");
        if (!activationId.equals(answer.path("id").asText()) || !answer.has("result")) {
            throw new IOException("unexpected answer " + answer);
        }
        return answer.get("result");
    }

    private void untilMarker(BlockingQueue<String> lines, String name) throws IOException {
        while (!take(lines, "the marker on " + name).equals(MARKER)) {
            // the action's own output: the floor action prints nothing
        }
    }

    private String take(BlockingQueue<String> queue, String what) throws IOException {
        try {
            String line = queue.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new IOException("no " + what + " within " + TIMEOUT + " (launcher " + status() + ")");
            }
            if (line == EOF) {
                queue.add(EOF);
                throw new IOException("the launcher's stream ended before " + what + " (launcher " + status() + ", stderr " + stderr + ")");
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + what, e);
        }
    }

    private String status() {
        return process.isAlive() ? "still running" : "exited with " + process.exitValue();
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        try {
            stdin.close();
            // End of stdin: the launcher answers what it has and exits 0.
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        // Should the launcher have died before opening fd 3, the reader still waits in open():
        // opening the write side here lets it through.
        if (answers.isEmpty() && Files.exists(fifo)) {
            Thread.ofPlatform().daemon().start(() -> {
                try (OutputStream ignored = new FileOutputStream(fifo.toFile())) {
                    // just open and close
                } catch (IOException ignoredToo) {
                    // the reader is gone already
                }
            });
        }
    }
}
