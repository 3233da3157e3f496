package io.petrel.container;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import static java.util.Objects.requireNonNull;

/**
 * Hands out uids for containers, one per live container on the whole machine: every Petrel JVM here (one per zone
 * in a local region) takes them from the same claims folder, under a file lock, so two containers never share a
 * uid and so can never read each other's files. A claim names its JVM (pid and start time); claims of a JVM that
 * is gone are taken over, after killing whatever still runs as that uid.
 */
final class UidPool {
    static final Path DEFAULT_CLAIMS = Path.of("/run/petrel/uids");
    static final int FIRST_UID = 200_000;
    static final int SIZE = 65_536;

    private final Path claims;
    private final int first;
    private final int size;
    private final IntConsumer killAllOf;
    private final String owner;
    private final AtomicInteger next = new AtomicInteger();

    UidPool(Path claims, int first, int size, IntConsumer killAllOf) throws IOException {
        this.claims = requireNonNull(claims, "claims");
        this.first = first;
        this.size = size;
        this.killAllOf = requireNonNull(killAllOf, "killAllOf");
        this.owner = Owner.currentPid() + " " + Owner.currentStartMillis();
        Files.createDirectories(claims, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    int claim() throws IOException {
        try (FileChannel channel = FileChannel.open(claims.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lock(channel)) {
            for (int i = 0; i < size; i++) {
                int uid = first + Math.floorMod(next.getAndIncrement(), size);
                Path claim = claims.resolve(Integer.toString(uid));
                if (Files.exists(claim)) {
                    if (!stale(claim)) {
                        continue;
                    }
                    killAllOf.accept(uid);
                }
                Files.writeString(claim, owner);
                return uid;
            }
        }
        throw new IOException("all " + size + " container uids from " + first + " are in use");
    }

    void release(int uid) {
        try {
            Files.deleteIfExists(claims.resolve(Integer.toString(uid)));
        }
        catch (IOException e) {
            // A claim left behind is taken over once this JVM is gone.
        }
    }

    private static boolean stale(Path claim) {
        try {
            String[] parts = Files.readString(claim, StandardCharsets.UTF_8).trim().split(" ");
            return !Owner.alive(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
        }
        catch (NoSuchFileException e) {
            return true;
        }
        catch (IOException | RuntimeException e) {
            return true; // unreadable or half-written: nobody can prove they own it
        }
    }

    private static FileLock lock(FileChannel channel) throws IOException {
        while (true) {
            try {
                return channel.lock();
            }
            catch (OverlappingFileLockException e) {
                // Another pool in this JVM holds it: file locks belong to the process, so wait our turn here.
                try {
                    Thread.sleep(2);
                }
                catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while claiming a uid", interrupted);
                }
            }
        }
    }
}
