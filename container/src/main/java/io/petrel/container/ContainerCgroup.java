package io.petrel.container;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The cgroups of one container, {@code <hierarchy>/petrel/<zone>/<container id>}: its memory limit (no swap),
 * a pids limit so a fork bomb stops, the count of OOM kills, and the list of its processes. With cgroup v1 the
 * memory and pids controllers are separate hierarchies, so a container has a directory in each.
 */
final class ContainerCgroup {
    static final String PARENT = "petrel";
    /** Container ids are {@code <owner pid>-<random hex>}: the pid says whose it is when a JVM was killed. */
    static final Pattern ID = Pattern.compile("(\\d+)-[0-9a-f]+");

    private final boolean v2;
    private final Path memory;
    private final Optional<Path> pids;

    private ContainerCgroup(boolean v2, Path memory, Optional<Path> pids) {
        this.v2 = v2;
        this.memory = requireNonNull(memory, "memory");
        this.pids = requireNonNull(pids, "pids");
    }

    /** The zone's parent directories, created (and for v2 given the controllers) if missing. */
    static List<Path> prepareZone(Isolation isolation, String zone) throws IOException {
        List<Path> parents = new ArrayList<>();
        switch (isolation.memory()) {
            case CGROUP_V2 -> {
                Path root = isolation.host().cgroupV2().orElseThrow();
                Path petrel = root.resolve(PARENT);
                Path zoneDir = petrel.resolve(zone);
                Files.createDirectories(zoneDir);
                // Controllers must be enabled on every level above a cgroup that uses them.
                enableControllers(root);
                enableControllers(petrel);
                enableControllers(zoneDir);
                parents.add(zoneDir);
            }
            case CGROUP_V1 -> {
                parents.add(Files.createDirectories(isolation.host().memoryV1().orElseThrow().resolve(PARENT).resolve(zone)));
                if (isolation.host().pidsV1().isPresent()) {
                    parents.add(Files.createDirectories(isolation.host().pidsV1().orElseThrow().resolve(PARENT).resolve(zone)));
                }
            }
            case RSS_WATCHDOG -> {}
        }
        return parents;
    }

    static void enableControllers(Path cgroup) throws IOException {
        String enabled = Files.readString(cgroup.resolve("cgroup.subtree_control"));
        Set<String> available = Set.of(Files.readString(cgroup.resolve("cgroup.controllers")).trim().split("\\s+"));
        for (String controller : List.of("memory", "pids")) {
            if (available.contains(controller) && !List.of(enabled.trim().split("\\s+")).contains(controller)) {
                write(cgroup.resolve("cgroup.subtree_control"), "+" + controller);
            }
        }
    }

    /** Creates the container's cgroups; {@link FileAlreadyExistsException} when the id is taken. */
    static ContainerCgroup create(List<Path> zoneParents, boolean v2, String id, long memoryBytes, int maxPids) throws IOException {
        Path memory = zoneParents.getFirst().resolve(id);
        Optional<Path> pids = zoneParents.size() > 1 ? Optional.of(zoneParents.get(1).resolve(id)) : Optional.empty();
        Files.createDirectory(memory);
        if (pids.isPresent()) {
            try {
                Files.createDirectory(pids.get());
            }
            catch (IOException e) {
                removeDir(memory); // only what this call made: the pids cgroup may be someone else's
                throw e;
            }
        }
        ContainerCgroup cgroup = new ContainerCgroup(v2, memory, pids);
        try {
            cgroup.limitMemory(memoryBytes);
            if (v2) {
                // One OOM kill takes the whole container down, as it would a Docker container.
                writeIfPresent(memory.resolve("memory.oom.group"), "1");
                writeIfPresent(memory.resolve("pids.max"), Integer.toString(maxPids));
            }
            else if (pids.isPresent()) {
                write(pids.get().resolve("pids.max"), Integer.toString(maxPids));
            }
            return cgroup;
        }
        catch (IOException | RuntimeException e) {
            cgroup.remove();
            throw e;
        }
    }

    /** The {@code cgroup.procs} files a process writes its pid to, to join the container's cgroups. */
    List<Path> joinFiles() {
        List<Path> files = new ArrayList<>();
        files.add(memory.resolve("cgroup.procs"));
        pids.ifPresent(dir -> files.add(dir.resolve("cgroup.procs")));
        return files;
    }

    void limitMemory(long bytes) throws IOException {
        if (v2) {
            write(memory.resolve("memory.max"), Long.toString(bytes));
            writeIfPresent(memory.resolve("memory.swap.max"), "0");
            return;
        }
        // memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes: raise the second first, lower it last.
        Path memsw = memory.resolve("memory.memsw.limit_in_bytes");
        boolean hasMemsw = Files.exists(memsw);
        if (hasMemsw && bytes > Long.parseLong(Files.readString(memsw).trim())) {
            write(memsw, Long.toString(bytes));
            write(memory.resolve("memory.limit_in_bytes"), Long.toString(bytes));
        }
        else {
            write(memory.resolve("memory.limit_in_bytes"), Long.toString(bytes));
            if (hasMemsw) {
                write(memsw, Long.toString(bytes));
            }
        }
    }

    /** How many times the kernel killed a process of this container for its memory limit. */
    long oomKills() {
        try {
            if (v2) {
                return field(Files.readAllLines(memory.resolve("memory.events")), "oom_kill");
            }
            long kills = field(Files.readAllLines(memory.resolve("memory.oom_control")), "oom_kill");
            if (kills >= 0) {
                return kills;
            }
            // Kernels before 4.13 do not count kills; a limit that was hit is the best we know.
            return Long.parseLong(Files.readString(memory.resolve("memory.failcnt")).trim()) > 0 ? 1 : 0;
        }
        catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    Set<Long> pids() {
        Set<Long> result = new HashSet<>();
        readPids(memory, result);
        pids.ifPresent(dir -> readPids(dir, result));
        return result;
    }

    /** Stops the container from starting processes, so that killing them all converges even under a fork bomb. */
    void stopForks() {
        try {
            if (v2) {
                writeIfPresent(memory.resolve("pids.max"), "0");
            }
            else if (pids.isPresent()) {
                write(pids.get().resolve("pids.max"), "0");
            }
        }
        catch (IOException e) {
            // Best effort: killing still converges, only more slowly.
        }
    }

    /** Kills every process at once where the kernel can (cgroup v2's cgroup.kill, Linux 5.14). */
    void killAll() {
        if (v2) {
            try {
                writeIfPresent(memory.resolve("cgroup.kill"), "1");
            }
            catch (IOException e) {
                // Older kernels: the caller kills pid by pid.
            }
        }
    }

    /** Removes the cgroup directories; false while processes (or dying ones) remain. */
    boolean remove() {
        boolean removed = removeDir(memory);
        if (pids.isPresent()) {
            removed &= removeDir(pids.get());
        }
        return removed;
    }

    Path memoryDir() {
        return memory;
    }

    /**
     * Removes the cgroups of a zone whose owner JVM is gone (killed before it could clean up): their processes
     * are killed first. Cgroups of a live JVM, this one included, are left alone.
     */
    static List<String> removeStale(List<Path> zoneParents) {
        List<String> removed = new ArrayList<>();
        for (Path parent : zoneParents) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent, Files::isDirectory)) {
                for (Path dir : dirs) {
                    if (isStale(dir)) {
                        killAndRemove(dir);
                        removed.add(dir.toString());
                    }
                }
            }
            catch (IOException e) {
                // Nothing to clean.
            }
        }
        return removed;
    }

    static boolean isStale(Path dir) {
        Matcher matcher = ID.matcher(dir.getFileName().toString());
        if (!matcher.matches()) {
            return false;
        }
        try {
            Instant created = Files.readAttributes(dir, BasicFileAttributes.class).lastModifiedTime().toInstant();
            return !Owner.alive(Long.parseLong(matcher.group(1)), created);
        }
        catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private static void killAndRemove(Path dir) {
        try {
            writeIfPresent(dir.resolve("pids.max"), "0");
        }
        catch (IOException e) {
            // Not a pids cgroup.
        }
        for (int attempt = 0; attempt < 100; attempt++) {
            Set<Long> pids = new HashSet<>();
            readPids(dir, pids);
            if (pids.isEmpty() && removeDir(dir)) {
                return;
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            sleep(10);
        }
    }

    private static boolean removeDir(Path dir) {
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return true;
            }
            catch (IOException e) {
                // EBUSY until the last process has left: exiting processes take a moment.
                sleep(10);
            }
        }
        return false;
    }

    private static void readPids(Path dir, Set<Long> into) {
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    into.add(Long.parseLong(line.trim()));
                }
            }
        }
        catch (NoSuchFileException e) {
            // Already removed.
        }
        catch (IOException | NumberFormatException e) {
            // Unreadable: treat as empty.
        }
    }

    private static long field(List<String> lines, String name) {
        for (String line : lines) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals(name)) {
                return Long.parseLong(parts[1]);
            }
        }
        return -1;
    }

    static void write(Path file, String value) throws IOException {
        // cgroup files take one write(2) each; no truncation, no creation.
        Files.writeString(file, value, StandardOpenOption.WRITE);
    }

    private static void writeIfPresent(Path file, String value) throws IOException {
        if (Files.exists(file)) {
            write(file, value);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
