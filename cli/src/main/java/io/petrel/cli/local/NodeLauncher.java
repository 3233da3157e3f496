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
                "-XX:MaxMetaspaceSize=128m", "-XX:CICompilerCount=2", "--enable-native-access=ALL-UNNAMED",
                // See ZoneReplica.MIN_COMMON_POOL_PARALLELISM: on two cores the common pool has one worker.
                "-Djava.util.concurrent.ForkJoinPool.common.parallelism=8"));
        if (Runtime.version().feature() >= 23) {
            flags.add("--sun-misc-unsafe-memory-access=allow");
        }
        return new NodeLauncher(java, System.getProperty("java.class.path"), flags, cdsArchive);
    }

    List<String> nodeCommand(Path configFile, ZoneSpec zone) {
        return command(jvmFlags, cdsArchive, "-Dpetrel.zone=" + zone.zone(), "node", configFile);
    }

    /**
     * A gateway instance: a smaller heap than a zone (it holds no state, and buffers at most
     * {@code replayable.body.bytes} per request) and its own class-data archive.
     */
    List<String> gatewayCommand(Path configFile, GatewaySpec gateway) {
        List<String> flags = new ArrayList<>(jvmFlags);
        flags.replaceAll(f -> f.startsWith("-Xmx") ? "-Xmx256m" : f.startsWith("-Xms") ? "-Xms32m" : f);
        Path archive = cdsArchive == null ? null : cdsArchive.resolveSibling("petrel-gateway.jsa");
        return command(flags, archive, "-Dpetrel.gateway=" + gateway.name(), "gateway", configFile);
    }

    private List<String> command(List<String> flags, Path archive, String marker, String subcommand, Path configFile) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(flags);
        if (archive != null) {
            cmd.add("-XX:+AutoCreateSharedArchive");
            cmd.add("-XX:SharedArchiveFile=" + archive);
        }
        cmd.add("-Xlog:cds*=off");
        cmd.add(marker);
        cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        cmd.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS");
        cmd.add("-Dorg.slf4j.simpleLogger.log.org.apache.ratis=warn");
        cmd.add("-Dorg.slf4j.simpleLogger.log.org.eclipse.jetty=warn");
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add("io.petrel.cli.PetrelMain");
        cmd.add(subcommand);
        cmd.add("--config");
        cmd.add(configFile.toString());
        return cmd;
    }
}
