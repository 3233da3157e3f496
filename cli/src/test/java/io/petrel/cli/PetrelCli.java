package io.petrel.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Runs {@code petrel} commands in this JVM as a user would type them, capturing what they print. */
public final class PetrelCli {
    private PetrelCli() {
    }

    public record Result(int code, String out, String err) {
    }

    /** One command; synchronized because it swaps {@code System.out}. */
    public static synchronized Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            var cl = PetrelMain.commandLine();
            cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
            int code = cl.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }

    /** A test's own data folder, with {@code petrel.home} inside it so the developer's ~/.petrel is never touched. */
    static Path freshDataDir(String name) throws IOException {
        Path data = Files.createTempDirectory(name);
        System.setProperty("petrel.home", data.resolve("home").toString());
        return data;
    }

    /** Stops the region in {@code data} (if any) and deletes the folder. */
    static void downAndDelete(Path data) throws IOException {
        run("down", "--data", data.toString());
        try (Stream<Path> walk = Files.walk(data)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
