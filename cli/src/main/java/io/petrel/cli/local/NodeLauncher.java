package io.petrel.cli.local;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The command line that runs a zone node: the same Java and class path as this process, with the
 * JVM budget every zone runs under (a small heap, SerialGC, a shared class-data archive), so that a
 * region and its tests fit on two cores without GC pauses long enough to start elections.
 */
public record NodeLauncher(String java, String classPath, List<String> jvmFlags, Path cdsArchive) {

    public NodeLauncher {
        requireNonNull(java, "java");
        requireNonNull(classPath, "classPath");
        jvmFlags = List.copyOf(jvmFlags);
    }

    /** A launcher for the Java and class path of the running process. */
    public static NodeLauncher current(Path cdsArchive) {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> flags = new ArrayList<>(List.of("-Xms64m", "-Xmx512m", "-Xss512k", "-XX:+UseSerialGC",
                "-XX:MaxMetaspaceSize=128m", "-XX:CICompilerCount=2", "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 23) {
            flags.add("--sun-misc-unsafe-memory-access=allow");
        }
        return new NodeLauncher(java, System.getProperty("java.class.path"), flags, cdsArchive);
    }

    List<String> nodeCommand(Path configFile, ZoneSpec zone) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmFlags);
        if (cdsArchive != null) {
            cmd.add("-XX:+AutoCreateSharedArchive");
            cmd.add("-XX:SharedArchiveFile=" + cdsArchive);
        }
        cmd.add("-Xlog:cds*=off");
        cmd.add("-Dpetrel.zone=" + zone.zone());
        cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        cmd.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS");
        cmd.add("-Dorg.slf4j.simpleLogger.log.org.apache.ratis=warn");
        cmd.add("-Dorg.slf4j.simpleLogger.log.org.eclipse.jetty=warn");
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add("io.petrel.cli.PetrelMain");
        cmd.add("node");
        cmd.add("--config");
        cmd.add(configFile.toString());
        return cmd;
    }
}
