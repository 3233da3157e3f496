package io.petrel.runtimes;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * A launcher started as a container would start it: a clean environment, its own work directory,
 * requests on stdin, answers on fd 3 (a FIFO bash opens before exec'ing the interpreter), logs on
 * stdout and stderr, each read line by line on its own thread.
 */
final class ActionProcess implements AutoCloseable {
    static final String MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";
    private static final String EOF = new String("<eof>"); // compared by identity
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path fifo;
    private final OutputStream stdin;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> stderr = new LinkedBlockingQueue<>();
    private final long startedNanos = System.nanoTime();

    private ActionProcess(Process process, Path fifo) {
        this.process = requireNonNull(process, "process");
        this.fifo = requireNonNull(fifo, "fifo");
        this.stdin = process.getOutputStream();
        pump("stdout", process.getInputStream(), stdout);
        pump("stderr", process.getErrorStream(), stderr);
        Thread.ofPlatform().daemon().name("answers").start(() -> {
            // Opening a FIFO for reading blocks until the launcher's side opens it for writing.
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                drain(in, answers);
            }
            catch (IOException e) {
                answers.add(EOF);
            }
        });
    }

    static ActionProcess start(List<String> command, Path workDir, Map<String, String> env) throws IOException {
        // In the work dir, which the test's @TempDir cleans up.
        Path fifo = Files.createTempFile(workDir, ".answers", ".fifo");
        Files.delete(fifo);
        try {
            Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
            if (mkfifo.waitFor() != 0) {
                throw new IOException("mkfifo failed");
            }
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        List<String> argv = new ArrayList<>(List.of("/bin/bash", "-c", "exec \"$@\" 3>\"$0\"", fifo.toString()));
        argv.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(argv).directory(workDir.toFile());
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        builder.environment().putAll(env);
        return new ActionProcess(builder.start(), fifo);
    }

    private static void pump(String name, InputStream in, BlockingQueue<String> lines) {
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try (in) {
                drain(in, lines);
            }
            catch (IOException e) {
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

    void send(String line) throws IOException {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    JsonObject init(JsonObject init) throws IOException {
        JsonObject message = new JsonObject();
        message.add("init", init);
        send(message.toString());
        return answer();
    }

    /** Sends a run and reads its answer, but not its logs. */
    void sendRun(JsonObject run) throws IOException {
        JsonObject message = new JsonObject();
        message.add("run", run);
        send(message.toString());
    }

    /** A run of one activation at a time: its answer, then its logs up to the markers. */
    Activation run(JsonObject run) throws IOException {
        sendRun(run);
        JsonObject answer = answer();
        return new Activation(answer, untilMarker(stdout, "stdout"), untilMarker(stderr, "stderr"));
    }

    JsonObject answer() {
        String line = take(answers, "an answer");
        return JsonParser.parseString(line).getAsJsonObject();
    }

    /** The raw line of the next answer. */
    String answerLine() {
        return take(answers, "an answer");
    }

    List<String> untilMarker(BlockingQueue<String> lines, String name) {
        List<String> seen = new ArrayList<>();
        while (true) {
            String line = take(lines, "a marker on " + name + " after " + seen);
            if (line.equals(MARKER)) {
                return seen;
            }
            seen.add(line);
        }
    }

    /** Lines on stdout that came without waiting, up to {@code wait}. */
    List<String> pendingStdout(Duration wait) throws InterruptedException {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = stdout.poll(wait.toMillis(), TimeUnit.MILLISECONDS)) != null && line != EOF) {
            lines.add(line);
        }
        return lines;
    }

    long elapsedMillis() {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    private String take(BlockingQueue<String> queue, String what) {
        try {
            String line = queue.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("No " + what + " within " + TIMEOUT + "; stderr so far: " + stderr);
            }
            if (line == EOF) {
                queue.add(EOF);
                throw new AssertionError("Stream ended before " + what + "; exit " + exitStatusIfDone() + ", stderr: " + stderr);
            }
            return line;
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private String exitStatusIfDone() {
        return process.isAlive() ? "(still running)" : String.valueOf(process.exitValue());
    }

    /** Closes stdin and answers the exit status. */
    int closeStdinAndWait() throws IOException, InterruptedException {
        stdin.close();
        if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("The launcher did not exit after the end of its input");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Should the launcher have died before opening fd 3, the reader still waits in open():
        // opening the write side ourselves lets it through.
        if (answers.isEmpty() && Files.exists(fifo)) {
            Thread.ofPlatform().daemon().start(() -> {
                try (OutputStream ignored = new FileOutputStream(fifo.toFile())) {
                    // just open and close
                }
                catch (IOException ignoredToo) {
                    // the reader is gone already
                }
            });
        }
    }

    record Activation(JsonObject answer, List<String> stdout, List<String> stderr) {
        JsonElement result() {
            return answer.get("result");
        }

        String error() {
            return answer.has("error") ? answer.get("error").getAsString() : null;
        }
    }
}
