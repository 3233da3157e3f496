package io.petrel.container;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.petrel.container.TestSupport.files;
import static io.petrel.container.TestSupport.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parts that need no process: log lines, stream cutting, archives. */
class PiecesTest {
    @Test
    void logLinesHaveOpenWhisksForm() {
        String line = LogCollector.format(Instant.parse("2026-12-01T22:00:00.123456Z"), LogStream.STDOUT, "text");
        assertThat(line).isEqualTo("2026-12-01T22:00:00.123456000Z stdout: text");
        // OpenWhisk's "%-30s %s: %s": a time of exactly 30 characters is followed by one space.
        assertThat(line.indexOf(' ')).isEqualTo(30);
    }

    @Test
    void logsAreCutAtTheLimitAndSaySo() {
        LogCollector logs = new LogCollector(10);
        logs.add("a", 4);
        logs.add("b", 6);
        logs.add("c", 1);
        logs.add("d", 0);
        List<String> lines = logs.finish(true);
        assertThat(lines).hasSize(4);
        assertThat(lines.subList(0, 2)).containsExactly("a", "b");
        assertThat(lines.get(2)).endsWith(" stderr: Logs were truncated because the total bytes size exceeds the limit of 10 bytes.");
        assertThat(lines.get(3)).endsWith(" stderr: There was an issue while collecting your logs. Data might be missing.");
    }

    @Test
    void streamIsCutIntoLinesAndLongLinesIntoPieces() {
        StringBuilder input = new StringBuilder("first\r\nXXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n");
        String longLine = "é".repeat(StreamPump.MAX_LINE); // two bytes each: a piece must not split one
        input.append(longLine).append('\n').append("last without newline");
        List<String> lines = new ArrayList<>();
        List<LogStream> markers = new ArrayList<>();
        new StreamPump(new ByteArrayInputStream(input.toString().getBytes(StandardCharsets.UTF_8)), LogStream.STDERR, new StreamPump.Sink() {
            @Override
            public void line(LogStream stream, byte[] bytes, int offset, int length) {
                lines.add(new String(bytes, offset, length, StandardCharsets.UTF_8));
            }

            @Override
            public void marker(LogStream stream) {
                markers.add(stream);
            }

            @Override
            public void ended(LogStream stream) {}
        }).run();
        assertThat(markers).containsExactly(LogStream.STDERR);
        assertThat(lines.getFirst()).isEqualTo("first");
        assertThat(lines.getLast()).isEqualTo("last without newline");
        List<String> pieces = lines.subList(1, lines.size() - 1);
        assertThat(pieces).hasSizeGreaterThan(1).allMatch(piece -> !piece.contains("\uFFFD"));
        assertThat(String.join("", pieces)).isEqualTo(longLine);
    }

    @Test
    void archivesAreCheckedBeforeAnythingIsWritten() throws Exception {
        Path dir = TestSupport.newDir("archive-");
        ActionArchive.unzip(zip(files("a/b.js", "b", "c.js", "c")), dir.resolve("ok"));
        assertThat(Files.readString(dir.resolve("ok/a/b.js"))).isEqualTo("b");
        assertThatThrownBy(() -> ActionArchive.unzip(zip(files("/etc/evil", "x")), dir.resolve("absolute")))
                .isInstanceOf(ActionArchive.InvalidArchiveException.class).hasMessageContaining("outside the action's folder");
        assertThatThrownBy(() -> ActionArchive.unzip(zip(files("a/../../evil", "x")), dir.resolve("dots")))
                .isInstanceOf(ActionArchive.InvalidArchiveException.class).hasMessageContaining("outside the action's folder");
        assertThatThrownBy(() -> ActionArchive.unzip("PK but not really a zip".getBytes(StandardCharsets.UTF_8), dir.resolve("fake")))
                .isInstanceOf(ActionArchive.InvalidArchiveException.class).hasMessage(Messages.ARCHIVE_ERROR);
        assertThatThrownBy(() -> ActionArchive.unzip(zip(files()), dir.resolve("empty")))
                .isInstanceOf(ActionArchive.InvalidArchiveException.class).hasMessage(Messages.ARCHIVE_ERROR);
        assertThat(Files.exists(dir.resolve("evil"))).isFalse();
        assertThat(Files.exists(Path.of("/etc/evil"))).isFalse();
    }

    @Test
    void messagesAreOpenWhisks() throws IOException {
        assertThat(Messages.timedOut(1000, false)).isEqualTo("The action exceeded its time limits of 1000 milliseconds.");
        assertThat(Messages.timedOut(1000, true)).isEqualTo("The action exceeded its time limits of 1000 milliseconds during initialization.");
        assertThat(Messages.truncatedResponse(2000000, 1048576))
                .isEqualTo("The action produced a response that exceeded the allowed length: 2000000 > 1048576 bytes.");
    }
}
