package io.petrel.container;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A snapshot of {@code /proc}: how a container's processes are found when no cgroup lists them (the memory
 * watchdog, and killing a container that has no cgroup). One {@code status} file per process holds all we need.
 */
final class ProcTable {
    private static final Path PROC = Path.of("/proc");

    /** One process: its parent, its session (in our pid namespace), its real uid and its resident memory. */
    record Proc(long pid, long ppid, long sid, int uid, long rssBytes) {}

    private ProcTable() {}

    static List<Proc> snapshot() {
        List<Proc> procs = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, entry -> isNumber(entry.getFileName().toString()))) {
            for (Path dir : dirs) {
                Proc proc = read(dir);
                if (proc != null) {
                    procs.add(proc);
                }
            }
        }
        catch (IOException e) {
            // /proc is always there on Linux; an empty table only means "nothing found".
        }
        return procs;
    }

    /**
     * The processes of a container that has no cgroup: every process of its own uid when it has one, else the
     * tree under its first process plus, when it was started in a session of its own, that session (orphans
     * re-parented to init keep their session).
     */
    static Set<Long> members(List<Proc> table, long rootPid, OptionalInt uid, boolean ownSession) {
        Set<Long> members = new HashSet<>();
        if (uid.isPresent()) {
            for (Proc proc : table) {
                if (proc.uid() == uid.getAsInt()) {
                    members.add(proc.pid());
                }
            }
            return members;
        }
        Map<Long, List<Long>> children = new HashMap<>();
        Set<Long> session = new HashSet<>();
        for (Proc proc : table) {
            children.computeIfAbsent(proc.ppid(), ignored -> new ArrayList<>()).add(proc.pid());
            if (ownSession && proc.sid() == rootPid) {
                session.add(proc.pid());
            }
        }
        Set<Long> present = new HashSet<>();
        table.forEach(proc -> present.add(proc.pid()));
        ArrayDeque<Long> queue = new ArrayDeque<>(List.of(rootPid));
        while (!queue.isEmpty()) {
            long pid = queue.poll();
            if (present.contains(pid) && members.add(pid)) {
                queue.addAll(children.getOrDefault(pid, List.of()));
            }
        }
        members.addAll(session);
        return members;
    }

    /** Whether a process still runs: it exists and is not a zombie waiting to be reaped. */
    static boolean running(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            // "pid (comm) S ...": the command may hold spaces and parentheses, the state follows the last ')'.
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        }
        catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static long rssBytes(List<Proc> table, Set<Long> pids) {
        long total = 0;
        for (Proc proc : table) {
            if (pids.contains(proc.pid())) {
                total += proc.rssBytes();
            }
        }
        return total;
    }

    private static Proc read(Path dir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.resolve("status"));
        }
        catch (IOException | RuntimeException e) {
            return null; // the process ended while we looked
        }
        long pid = Long.parseLong(dir.getFileName().toString());
        long ppid = -1;
        long sid = -1;
        int uid = -1;
        long rss = 0;
        boolean dead = false;
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String[] values = line.substring(colon + 1).trim().split("\\s+");
            switch (key) {
                case "PPid" -> ppid = Long.parseLong(values[0]);
                case "NSsid" -> sid = Long.parseLong(values[0]);
                case "Uid" -> uid = Integer.parseInt(values[0]);
                case "VmRSS" -> rss = Long.parseLong(values[0]) * 1024;
                case "State" -> dead = values[0].equals("Z") || values[0].equals("X");
                default -> {}
            }
        }
        // A zombie is dead already: it only waits for a parent (maybe the machine's init) to reap it.
        return dead ? null : new Proc(pid, ppid, sid, uid, rss);
    }

    private static boolean isNumber(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
