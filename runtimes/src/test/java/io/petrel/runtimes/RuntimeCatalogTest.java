package io.petrel.runtimes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RuntimeCatalogTest {
    private static final List<String> LAUNCHER_FILES = List.of(
            "launcher.js", "launcher.py", "java/petrel-java-launcher.jar", "java/gson.jar");

    @TempDir
    Path dir;

    @Test
    void offersTheJvmItRunsOnAsJava21() {
        RuntimeCatalog catalog = TestCatalog.get();
        RuntimeKind java = catalog.resolve("java:21").orElseThrow();
        assertThat(java.family()).isEqualTo("java");
        assertThat(java.isDefault()).isTrue();
        assertThat(java.requiresMain()).isTrue();
        assertThat(java.concurrent()).isTrue();
        assertThat(java.interpreter()).isEqualTo(Path.of(System.getProperty("java.home"), "bin", "java"));
        assertThat(java.installRoots()).hasSize(1);
        assertThat(Path.of(System.getProperty("java.home"))).satisfies(home -> assertThat(java.installRoots().get(0)).isEqualTo(realPath(home)));
    }

    @Test
    void describesNodeAndPythonWhenPresent() {
        RuntimeCatalog catalog = TestCatalog.get();
        catalog.resolve("nodejs:default").ifPresent(node -> {
            assertThat(node.kind()).matches("nodejs:\\d+");
            assertThat(node.concurrent()).isTrue();
            assertThat(node.requiresMain()).isFalse();
            assertThat(node.interpreter()).isAbsolute();
            assertThat(Files.isExecutable(node.interpreter())).isTrue();
        });
        catalog.resolve("python:default").ifPresent(python -> {
            assertThat(python.kind()).matches("python:3\\.\\d+");
            assertThat(python.aliases()).containsExactly("python:3");
            assertThat(python.concurrent()).isFalse();
            assertThat(python.interpreter()).isAbsolute();
            assertThat(python.interpreter().toString()).doesNotContain("shims");
        });
        assertThat(catalog.kinds()).extracting(RuntimeKind::family).doesNotHaveDuplicates();
    }

    @Test
    void resolvesKindsAliasesAndDefaults() {
        RuntimeCatalog catalog = TestCatalog.get();
        assertThat(catalog.resolve("java:default")).contains(catalog.resolve("java:21").orElseThrow());
        assertThat(catalog.resolve("  JAVA:Default \t")).contains(catalog.resolve("java:21").orElseThrow());
        for (RuntimeKind kind : catalog.kinds()) {
            assertThat(catalog.resolve(kind.kind().toUpperCase())).contains(kind);
            assertThat(catalog.resolve(kind.family() + ":default")).contains(kind);
            kind.aliases().forEach(alias -> assertThat(catalog.resolve(alias)).contains(kind));
        }
        assertThat(catalog.resolve("java:17")).isEmpty();
        assertThat(catalog.resolve("ruby:default")).isEmpty();
        assertThat(catalog.resolve("default")).isEmpty();
        assertThat(catalog.resolve("")).isEmpty();
    }

    @Test
    void buildsEachKindsCommand() {
        RuntimeCatalog catalog = TestCatalog.get();
        Path launchers = catalog.launcherDir();
        RuntimeKind java = catalog.resolve("java:21").orElseThrow();
        List<String> javaCommand = catalog.command(java, 256);
        assertThat(javaCommand.get(0)).isEqualTo(java.interpreter().toString());
        assertThat(javaCommand).contains("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xss512k",
                "-XX:MaxRAM=256m", "-Xmx153m", "-XX:-UsePerfData",
                "-XX:SharedArchiveFile=" + launchers.resolve("java/launcher.jsa"));
        assertThat(javaCommand.subList(javaCommand.size() - 2, javaCommand.size()))
                .containsExactly("-jar", launchers.resolve("java/petrel-java-launcher.jar").toString());

        catalog.resolve("nodejs:default").ifPresent(node -> assertThat(catalog.command(node, 256))
                .containsExactly(node.interpreter().toString(), "--max-old-space-size=192", launchers.resolve("launcher.js").toString()));
        catalog.resolve("python:default").ifPresent(python -> assertThat(catalog.command(python, 256))
                .containsExactly(python.interpreter().toString(), "-u", "-X", "utf8", launchers.resolve("launcher.py").toString()));

        assertThatThrownBy(() -> catalog.command(java, 0)).isInstanceOf(IllegalArgumentException.class);
        RuntimeKind ruby = new RuntimeKind("ruby:3", "ruby", true, false, false, List.of(), Path.of("/usr/bin/ruby"), List.of());
        assertThatThrownBy(() -> catalog.command(ruby, 256)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writesASelfContainedWorldReadableLauncherFolderOnce() throws Exception {
        Path launchers = dir.resolve("a/b/launchers");
        RuntimeCatalog catalog = RuntimeCatalog.detect(launchers);
        assertThat(catalog.launcherDir()).isEqualTo(launchers.toAbsolutePath());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(launchers))).isEqualTo("rwxr-xr-x");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(launchers.resolve("java")))).isEqualTo("rwxr-xr-x");
        for (String name : LAUNCHER_FILES) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(launchers.resolve(name)))).as(name).isEqualTo("rw-r--r--");
        }
        assertThat(launchers.resolve("java/launcher.jsa")).isRegularFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(launchers.resolve("java/launcher.jsa")))).isEqualTo("rw-r--r--");
        try (JarFile jar = new JarFile(launchers.resolve("java/petrel-java-launcher.jar").toFile())) {
            assertThat(jar.stream().map(ZipEntry::getName).filter(name -> name.endsWith(".class")))
                    .contains("io/petrel/runtimes/java/JavaActionLauncher.class", "io/petrel/runtimes/java/ActivationProperties.class")
                    .allMatch(name -> name.startsWith("io/petrel/runtimes/java/"));
        }
        try (JarFile jar = new JarFile(launchers.resolve("java/gson.jar").toFile())) {
            assertThat(jar.getEntry("com/google/gson/JsonObject.class")).isNotNull();
        }
        assertThat(Files.readString(launchers.resolve("launcher.js"))).contains("XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX");
        // nothing but the launchers is left behind (no temporary files)
        try (var files = Files.walk(launchers)) {
            assertThat(files.filter(Files::isRegularFile).map(path -> launchers.relativize(path).toString()))
                    .containsExactlyInAnyOrder("launcher.js", "launcher.py", "java/petrel-java-launcher.jar", "java/gson.jar", "java/launcher.jsa");
        }

        Map<String, Object> before = identities(launchers);
        Files.writeString(launchers.resolve("launcher.py"), "tampered");
        RuntimeCatalog.detect(launchers);
        Map<String, Object> after = identities(launchers);
        assertThat(Files.readString(launchers.resolve("launcher.py"))).contains("def main():");
        before.remove("launcher.py");
        after.remove("launcher.py");
        // unchanged files are not rewritten: same inode, same mtime (the class data archive depends on the jars')
        assertThat(after).isEqualTo(before);
    }

    @Test
    void readsTheLauncherClassesFromAJarAsFromAClassesFolder() throws IOException {
        String required = "io/petrel/runtimes/java/JavaActionLauncher.class";
        Map<String, byte[]> fromFolder = LauncherFolder.entries(Path.of("target", "classes"), LauncherFolder.JAVA_LAUNCHER_PACKAGE, required);
        Path jar = TestCatalog.get().launcherDir().resolve("java/petrel-java-launcher.jar");
        Map<String, byte[]> fromJar = LauncherFolder.entries(jar, LauncherFolder.JAVA_LAUNCHER_PACKAGE, required);
        assertThat(fromJar.keySet()).isEqualTo(fromFolder.keySet()).contains(required);
        fromFolder.forEach((name, bytes) -> assertThat(fromJar.get(name)).as(name).isEqualTo(bytes));
        assertThatThrownBy(() -> LauncherFolder.entries(jar, "com/google/gson/", "com/google/gson/JsonObject.class"))
                .isInstanceOf(IOException.class);
    }

    private static Map<String, Object> identities(Path launchers) throws IOException {
        Map<String, Object> identities = new HashMap<>();
        for (String name : List.of("launcher.js", "launcher.py", "java/petrel-java-launcher.jar", "java/gson.jar", "java/launcher.jsa")) {
            BasicFileAttributes attributes = Files.readAttributes(launchers.resolve(name), BasicFileAttributes.class);
            identities.put(name, List.of(attributes.fileKey(), attributes.lastModifiedTime()));
        }
        return identities;
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        }
        catch (IOException e) {
            return path;
        }
    }
}
