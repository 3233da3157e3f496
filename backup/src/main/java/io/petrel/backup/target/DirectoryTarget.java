package io.petrel.backup.target;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static java.util.Objects.requireNonNull;

/**
 * A backup target that is a directory (another disk, or a network mount). An object is written to a
 * temporary file beside its final name, fsynced and renamed into place, so a crash leaves either the
 * old object or the new one, never a torn one.
 */
public final class DirectoryTarget implements BackupTarget {
    private static final String TMP = ".tmp-";
    private final Path root;

    public DirectoryTarget(Path root) throws IOException {
        this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
        Files.createDirectories(this.root);
    }

    public Path root() {
        return root;
    }

    private Path path(String name) {
        return root.resolve(BackupTarget.checkName(name));
    }

    @Override
    public void put(String name, Path file) throws IOException {
        Path target = path(name);
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(TMP + target.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
            publish(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public void put(String name, byte[] content) throws IOException {
        Path target = path(name);
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(TMP + target.getFileName() + "-" + UUID.randomUUID());
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                out.write(content);
            }
            publish(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A hard link fails if the name exists, atomically (link(2)), where a rename would replace it. */
    @Override
    public boolean createIfAbsent(String name, byte[] content) throws IOException {
        Path target = path(name);
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(TMP + target.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.write(tmp, content);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.createLink(target, tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            }
            try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            } catch (IOException ignored) {
                // Not every file system lets a directory be synced; the link is still atomic.
            }
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void publish(Path tmp, Path target) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // Not every file system lets a directory be synced; the rename is still atomic.
        }
    }

    @Override
    public InputStream get(String name) throws IOException {
        try {
            return Files.newInputStream(path(name));
        } catch (NoSuchFileException e) {
            throw new NoSuchObjectException("no object " + name + " in " + describe());
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) throws IOException {
        Path p = path(name);
        if (!Files.isRegularFile(p)) {
            return Optional.empty(); // missing, or a folder of other objects' names
        }
        try {
            return Optional.of(new ObjectInfo(name, Files.size(p)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        List<ObjectInfo> found = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            throw new IOException("backup directory " + root + " is gone");
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = root.relativize(file).toString().replace('\\', '/');
                if (!file.getFileName().toString().startsWith(TMP) && rel.startsWith(prefix) && BackupTarget.NAME.matcher(rel).matches()) {
                    found.add(new ObjectInfo(rel, attrs.size()));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                return FileVisitResult.CONTINUE; // deleted while we walked
            }
        });
        found.sort(Comparator.comparing(ObjectInfo::name));
        return found;
    }

    @Override
    public void delete(String name) throws IOException {
        Files.deleteIfExists(path(name));
    }

    @Override
    public String describe() {
        return "dir:" + root;
    }

    @Override
    public void close() {
        // Nothing held open.
    }
}
