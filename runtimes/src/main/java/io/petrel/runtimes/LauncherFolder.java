package io.petrel.runtimes;

import com.google.gson.JsonObject;
import io.petrel.runtimes.java.JavaActionLauncher;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.CodeSource;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static java.util.Objects.requireNonNull;

/**
 * Writes the launchers into a folder a container can use on its own: it may run as another uid or
 * inside a sandbox that sees nothing of this JVM's class path, so everything a launcher needs is
 * copied there and made world-readable.
 */
final class LauncherFolder {
    static final String NODE_LAUNCHER = "launcher.js";
    static final String PYTHON_LAUNCHER = "launcher.py";
    static final String JAVA_LAUNCHER_JAR = "java/petrel-java-launcher.jar";
    static final String GSON_JAR = "java/gson.jar";
    static final String JAVA_LAUNCHER_PACKAGE = "io/petrel/runtimes/java/";

    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwxr-xr-x");
    // A fixed time stamp, so that the same classes always make the same bytes: a jar is rewritten
    // only when its content changes, which keeps its mtime (and a CDS archive built on it) valid.
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(2024, 1, 1, 0, 0);

    private final Path dir;

    LauncherFolder(Path dir) {
        this.dir = requireNonNull(dir, "dir");
    }

    void write() throws IOException {
        directory(dir);
        directory(dir.resolve("java"));
        file(dir.resolve(NODE_LAUNCHER), resource(NODE_LAUNCHER));
        file(dir.resolve(PYTHON_LAUNCHER), resource(PYTHON_LAUNCHER));
        file(dir.resolve(JAVA_LAUNCHER_JAR), jar(entries(JavaActionLauncher.class, JAVA_LAUNCHER_PACKAGE)));
        file(dir.resolve(GSON_JAR), gsonJar());
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = LauncherFolder.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("Missing resource io/petrel/runtimes/" + name + " in the runtimes jar");
            }
            return in.readAllBytes();
        }
    }

    /** Gson as it is when it is a jar of its own; only its classes when it came inside a bigger jar or a folder. */
    private static byte[] gsonJar() throws IOException {
        Path source = codeSource(JsonObject.class);
        if (Files.isRegularFile(source) && source.getFileName().toString().startsWith("gson")) {
            return Files.readAllBytes(source);
        }
        return jar(entries(JsonObject.class, "com/google/gson/"));
    }

    private static Path codeSource(Class<?> type) throws IOException {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        URL location = source == null ? null : source.getLocation();
        if (location == null) {
            throw new IOException("Cannot tell where the classes of " + type.getName() + " come from");
        }
        try {
            return Path.of(location.toURI());
        }
        catch (URISyntaxException | IllegalArgumentException e) {
            throw new IOException("Cannot read the classes of " + type.getName() + " from " + location, e);
        }
    }

    /** Every file under {@code prefix} where {@code anchor} was loaded from: a classes folder or a jar. */
    private static Map<String, byte[]> entries(Class<?> anchor, String prefix) throws IOException {
        return entries(codeSource(anchor), prefix, anchor.getName().replace('.', '/') + ".class");
    }

    /** Every file under {@code prefix} in {@code source}, a classes folder or a jar, which must hold {@code required}. */
    static Map<String, byte[]> entries(Path source, String prefix, String required) throws IOException {
        Map<String, byte[]> entries = new TreeMap<>();
        if (Files.isDirectory(source)) {
            Path root = source.resolve(prefix);
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    String name = source.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                    entries.put(name, Files.readAllBytes(file));
                }
            }
        }
        else {
            try (ZipFile zip = new ZipFile(source.toFile())) {
                Enumeration<? extends ZipEntry> all = zip.entries();
                while (all.hasMoreElements()) {
                    ZipEntry entry = all.nextElement();
                    if (!entry.isDirectory() && entry.getName().startsWith(prefix)) {
                        try (InputStream in = zip.getInputStream(entry)) {
                            entries.put(entry.getName(), in.readAllBytes());
                        }
                    }
                }
            }
        }
        if (!entries.containsKey(required)) {
            throw new IOException("Found no " + required + " in " + source);
        }
        return entries;
    }

    private static byte[] jar(Map<String, byte[]> entries) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Created-By"), "Petrel");
        // Started with -jar: Gson beside it, and java.util opened to the launcher (System.getenv shows init
        // parameters and __OW_* values) by the manifest, since --add-opens on the command line disables class data sharing.
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, JavaActionLauncher.class.getName());
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, Path.of(GSON_JAR).getFileName().toString());
        manifest.getMainAttributes().put(new Attributes.Name("Add-Opens"), "java.base/java.util");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes)) {
            JarEntry manifestEntry = new JarEntry("META-INF/MANIFEST.MF");
            manifestEntry.setTimeLocal(ENTRY_TIME);
            out.putNextEntry(manifestEntry);
            manifest.write(out);
            out.closeEntry();
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                JarEntry jarEntry = new JarEntry(entry.getKey());
                jarEntry.setTimeLocal(ENTRY_TIME);
                out.putNextEntry(jarEntry);
                out.write(entry.getValue());
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static void directory(Path path) throws IOException {
        Files.createDirectories(path);
        if (!Files.getPosixFilePermissions(path).equals(DIR_MODE)) {
            Files.setPosixFilePermissions(path, DIR_MODE);
        }
    }

    /** Writes {@code content} unless the file already holds it; atomically, for containers starting meanwhile. */
    private static void file(Path path, byte[] content) throws IOException {
        if (Files.isRegularFile(path) && Files.size(path) == content.length && Arrays.equals(Files.readAllBytes(path), content)) {
            if (!Files.getPosixFilePermissions(path).equals(FILE_MODE)) {
                Files.setPosixFilePermissions(path, FILE_MODE);
            }
            return;
        }
        Path temp = Files.createTempFile(path.getParent(), "." + path.getFileName(), ".tmp");
        try {
            Files.write(temp, content);
            Files.setPosixFilePermissions(temp, FILE_MODE);
            try {
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        finally {
            Files.deleteIfExists(temp);
        }
    }
}
