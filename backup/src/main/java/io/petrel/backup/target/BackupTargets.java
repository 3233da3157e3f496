package io.petrel.backup.target;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/** Opens a backup target from the spec an operator writes in a configuration file or on a command line. */
public final class BackupTargets {
    static final String FORMS = "s3://BUCKET[/PREFIX]?endpoint=URL&..., dir:/PATH, file:/PATH or a plain path";
    // A URI scheme; one letter is not one but a Windows drive (C:\backups).
    private static final Pattern SCHEME = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]+):.*", Pattern.DOTALL);

    private BackupTargets() {
    }

    /**
     * Opens {@code spec}: {@code s3://...} (see {@link S3TargetConfig#parse}; {@code env} supplies
     * {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY} and {@code AWS_REGION} when the spec does
     * not), {@code dir:/path}, {@code file:/path} (a file URI) or a plain path, the last three a
     * {@link DirectoryTarget}.
     *
     * @throws IllegalArgumentException if the spec is malformed or of an unknown kind
     * @throws IOException              if the target cannot be opened (directory not creatable, bucket not reachable)
     */
    public static BackupTarget open(String spec, Map<String, String> env) throws IOException {
        return open(spec, env, java.util.Optional.empty());
    }

    /** Like {@link #open(String, Map)}; a network target connects from {@code localAddress} when given. */
    public static BackupTarget open(String spec, Map<String, String> env, java.util.Optional<java.net.InetAddress> localAddress)
            throws IOException {
        requireNonNull(spec, "spec");
        requireNonNull(env, "env");
        if (spec.isBlank()) {
            throw new IllegalArgumentException("empty backup target; expected " + FORMS);
        }
        var scheme = SCHEME.matcher(spec);
        if (!scheme.matches()) {
            return new DirectoryTarget(path(spec, spec));
        }
        return switch (scheme.group(1).toLowerCase(Locale.ROOT)) {
            case "s3" -> new S3Target(S3TargetConfig.parse(spec, env), localAddress);
            case "dir" -> {
                String rest = spec.substring("dir:".length());
                if (rest.isEmpty()) {
                    throw new IllegalArgumentException("backup target '" + spec + "' names no directory; expected " + FORMS);
                }
                yield new DirectoryTarget(path(rest, spec));
            }
            case "file" -> new DirectoryTarget(fileUri(spec));
            default -> throw new IllegalArgumentException("unknown kind of backup target '"
                    + S3TargetConfig.redact(spec) + "' (scheme " + scheme.group(1) + "); expected " + FORMS);
        };
    }

    private static Path path(String path, String spec) {
        try {
            return Path.of(path);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("backup target '" + spec + "' is not a valid path: " + e.getReason());
        }
    }

    private static Path fileUri(String spec) {
        try {
            return Path.of(URI.create(spec));
        } catch (IllegalArgumentException | FileSystemNotFoundException e) {
            throw new IllegalArgumentException("backup target '" + spec + "' is not an absolute file URI such as "
                    + "file:/var/backups or file:///var/backups (" + e.getMessage() + ")");
        }
    }
}
