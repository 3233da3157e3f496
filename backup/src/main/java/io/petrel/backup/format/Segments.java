package io.petrel.backup.format;

import io.petrel.store.ratis.JournalEntry;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The plain form of an archive segment: a magic line, then per entry its index, term, revision after,
 * time, and log data (length-prefixed), then the number of entries again so that a cut-off segment
 * is never mistaken for a whole one.
 */
public final class Segments {
    private static final byte[] MAGIC = "PETREL-SEGMENT-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_ENTRY = 128 * 1024 * 1024;

    private Segments() {
    }

    public static void write(List<JournalEntry> entries, OutputStream out) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.write(MAGIC);
        for (JournalEntry e : entries) {
            d.writeBoolean(true);
            d.writeLong(e.index());
            d.writeLong(e.term());
            d.writeLong(e.revision());
            d.writeLong(e.time());
            d.writeInt(e.logData().length);
            d.write(e.logData());
        }
        d.writeBoolean(false);
        d.writeLong(entries.size());
        d.flush();
    }

    /** Reads a whole segment; throws naming {@code name} if it is not one, or is cut off. */
    public static List<JournalEntry> read(InputStream in, String name) throws IOException {
        DataInputStream d = new DataInputStream(in);
        try {
            byte[] magic = d.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException(name + " is not a Petrel archive segment");
            }
            List<JournalEntry> entries = new ArrayList<>();
            while (d.readBoolean()) {
                long index = d.readLong();
                long term = d.readLong();
                long revision = d.readLong();
                long time = d.readLong();
                int len = d.readInt();
                if (len < 0 || len > MAX_ENTRY) {
                    throw new IOException(name + " is corrupted: entry " + index + " claims " + len + " bytes");
                }
                byte[] data = d.readNBytes(len);
                if (data.length != len) {
                    throw new EOFException();
                }
                entries.add(new JournalEntry(term, index, revision, time, data, false));
            }
            long count = d.readLong();
            if (count != entries.size()) {
                throw new IOException(name + " is corrupted: it ends after " + entries.size() + " entries but says " + count);
            }
            return entries;
        } catch (EOFException e) {
            throw new IOException(name + " is truncated", e);
        } catch (IllegalArgumentException e) {
            throw new IOException(name + " is corrupted: " + e.getMessage(), e);
        }
    }
}
