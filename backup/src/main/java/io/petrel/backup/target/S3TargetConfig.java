package io.petrel.backup.target;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Where and how an {@link S3Target} reaches its bucket. Parsed from a spec such as
 * {@code s3://backups/region-1?endpoint=http://127.0.0.1:9000&region=us-east-1}; see {@link #parse}.
 *
 * @param bucket             the bucket's name
 * @param prefix             the key prefix every object is stored under: empty, or ending in {@code /}
 * @param endpoint           the S3-compatible server, or null for AWS's own endpoint of {@code region}
 * @param region             the signing region
 * @param accessKey          the access key id
 * @param secretKey          the secret key (never shown by {@link #toString()} or {@link #describe()})
 * @param createBucket       whether opening the target creates the bucket if it is missing
 * @param listPageSize       keys asked for per ListObjectsV2 page (S3 answers at most 1000)
 * @param multipartThreshold files larger than this are uploaded in parts
 * @param partSize           the size of each part (S3 wants at least 5 MiB for all but the last)
 */
public record S3TargetConfig(
        String bucket,
        String prefix,
        URI endpoint,
        String region,
        String accessKey,
        String secretKey,
        boolean createBucket,
        int listPageSize,
        long multipartThreshold,
        long partSize) {

    public static final String DEFAULT_REGION = "us-east-1";
    public static final int DEFAULT_LIST_PAGE_SIZE = 1000;
    public static final long MIN_PART_SIZE = 5L << 20;
    public static final long DEFAULT_MULTIPART_THRESHOLD = 64L << 20;
    public static final long DEFAULT_PART_SIZE = 16L << 20;

    private static final String FORM = "s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&accessKey=KEY&secretKey=SECRET&createBucket=true|false]";
    private static final Set<String> PARAMETERS = Set.of("endpoint", "region", "accessKey", "secretKey", "createBucket");
    // S3's rules for new buckets; dots are allowed, but path-style access is what makes them safe here.
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern SECRET_IN_SPEC = Pattern.compile("(?i)(secretKey=)[^&#]*");

    public S3TargetConfig {
        requireNonNull(bucket, "bucket");
        requireNonNull(prefix, "prefix");
        requireNonNull(region, "region");
        requireNonNull(accessKey, "accessKey");
        requireNonNull(secretKey, "secretKey");
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
            throw new IllegalArgumentException("invalid S3 bucket name '" + bucket
                    + "': 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit");
        }
        if (!prefix.isEmpty()) {
            if (!prefix.endsWith("/")) {
                throw new IllegalArgumentException("S3 key prefix '" + prefix + "' must be empty or end with '/'");
            }
            checkPrefix(prefix.substring(0, prefix.length() - 1));
        }
        if (endpoint != null) {
            checkEndpoint(endpoint);
        }
        if (region.isBlank()) {
            throw new IllegalArgumentException("S3 region must not be blank");
        }
        if (accessKey.isBlank() || secretKey.isBlank()) {
            throw new IllegalArgumentException("S3 access key and secret key must not be blank");
        }
        if (listPageSize < 1 || listPageSize > 1000) {
            throw new IllegalArgumentException("listPageSize must be 1..1000, not " + listPageSize);
        }
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("partSize must be at least " + MIN_PART_SIZE + " bytes (S3's minimum), not " + partSize);
        }
        if (multipartThreshold < partSize) {
            throw new IllegalArgumentException("multipartThreshold (" + multipartThreshold + ") must not be below partSize (" + partSize + ")");
        }
    }

    /** A configuration with the default page and part sizes. */
    public static S3TargetConfig of(String bucket, String prefix, URI endpoint, String region,
                                    String accessKey, String secretKey, boolean createBucket) {
        return new S3TargetConfig(bucket, normalizePrefix(prefix), endpoint, region, accessKey, secretKey, createBucket,
                DEFAULT_LIST_PAGE_SIZE, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE);
    }

    /**
     * Parses {@code s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION&accessKey=KEY&secretKey=SECRET&createBucket=BOOL}.
     * Every parameter is optional: without {@code endpoint} it is AWS itself; {@code region} falls back to
     * {@code AWS_REGION} in {@code env}, then {@code us-east-1}; the credentials, which must come as a pair,
     * fall back to {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} in {@code env};
     * {@code createBucket} defaults to true. Parameter values are percent-decoded, but a '+' stays a '+'
     * (secret keys often hold one).
     *
     * @throws IllegalArgumentException saying what is wrong, without repeating a secret key
     */
    public static S3TargetConfig parse(String spec, Map<String, String> env) {
        requireNonNull(spec, "spec");
        requireNonNull(env, "env");
        String shown = redact(spec);
        URI uri;
        try {
            uri = new URI(spec);
        } catch (URISyntaxException e) {
            throw bad(shown, "not a URI (" + e.getReason() + ")");
        }
        if (!"s3".equalsIgnoreCase(uri.getScheme())) {
            throw bad(shown, "the scheme must be s3");
        }
        if (uri.isOpaque() || uri.getRawAuthority() == null || uri.getRawAuthority().isEmpty()) {
            throw bad(shown, "no bucket");
        }
        if (uri.getRawFragment() != null) {
            throw bad(shown, "a '#' fragment is not allowed");
        }
        String bucket = uri.getRawAuthority();
        if (bucket.contains("@")) {
            throw bad(shown, "credentials go in the accessKey and secretKey parameters, not before the bucket");
        }
        if (bucket.contains(":")) {
            throw bad(shown, "the server goes in the endpoint parameter, not after the bucket");
        }
        Map<String, String> params = parameters(uri.getRawQuery(), shown);

        String path = decode(uri.getRawPath() == null ? "" : uri.getRawPath(), "the prefix", shown);
        String prefix = normalizePrefix(path);

        URI endpoint = null;
        if (params.containsKey("endpoint")) {
            try {
                endpoint = new URI(params.get("endpoint"));
            } catch (URISyntaxException e) {
                throw bad(shown, "endpoint '" + params.get("endpoint") + "' is not a URL (" + e.getReason() + ")");
            }
        }
        String region = params.getOrDefault("region", env.getOrDefault("AWS_REGION", DEFAULT_REGION));

        String accessKey = params.get("accessKey");
        String secretKey = params.get("secretKey");
        if ((accessKey == null) != (secretKey == null)) {
            throw bad(shown, "accessKey and secretKey must be given together");
        }
        if (accessKey == null) {
            accessKey = env.get("AWS_ACCESS_KEY_ID");
            secretKey = env.get("AWS_SECRET_ACCESS_KEY");
            if (accessKey == null || accessKey.isBlank() || secretKey == null || secretKey.isBlank()) {
                throw bad(shown, "no credentials: give accessKey and secretKey parameters, "
                        + "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
            }
        }

        boolean createBucket = true;
        if (params.containsKey("createBucket")) {
            createBucket = switch (params.get("createBucket")) {
                case "true" -> true;
                case "false" -> false;
                default -> throw bad(shown, "createBucket must be true or false, not '" + params.get("createBucket") + "'");
            };
        }
        try {
            return of(bucket, prefix, endpoint, region, accessKey, secretKey, createBucket);
        } catch (IllegalArgumentException e) {
            throw bad(shown, e.getMessage());
        }
    }

    /** The same target with another ListObjectsV2 page size. */
    public S3TargetConfig withListPageSize(int pageSize) {
        return new S3TargetConfig(bucket, prefix, endpoint, region, accessKey, secretKey, createBucket,
                pageSize, multipartThreshold, partSize);
    }

    /** The same target uploading files larger than {@code threshold} in parts of {@code partSize}. */
    public S3TargetConfig withMultipart(long threshold, long partSize) {
        return new S3TargetConfig(bucket, prefix, endpoint, region, accessKey, secretKey, createBucket,
                listPageSize, threshold, partSize);
    }

    /** The same target with or without creating its bucket when opened. */
    public S3TargetConfig withCreateBucket(boolean create) {
        return new S3TargetConfig(bucket, prefix, endpoint, region, accessKey, secretKey, create,
                listPageSize, multipartThreshold, partSize);
    }

    /** The same target under another key prefix (empty, or a valid object name; a trailing '/' is added). */
    public S3TargetConfig withPrefix(String newPrefix) {
        return new S3TargetConfig(bucket, normalizePrefix(newPrefix), endpoint, region, accessKey, secretKey, createBucket,
                listPageSize, multipartThreshold, partSize);
    }

    /** For messages and logs: {@code s3://bucket/prefix/ (http://host:9000)}; never the credentials. */
    public String describe() {
        return "s3://" + bucket + "/" + prefix + " (" + (endpoint == null ? "AWS " + region : endpoint.toString()) + ")";
    }

    @Override
    public String toString() {
        // A record would print the secret key; configurations end up in logs.
        return "S3TargetConfig[" + describe() + ", region=" + region + ", accessKey=" + accessKey
                + ", secretKey=***, createBucket=" + createBucket + ", listPageSize=" + listPageSize
                + ", multipartThreshold=" + multipartThreshold + ", partSize=" + partSize + "]";
    }

    /** {@code spec} with the value of any secretKey parameter replaced by {@code ***}, for messages. */
    static String redact(String spec) {
        return spec == null ? null : SECRET_IN_SPEC.matcher(spec).replaceAll("$1***");
    }

    private static String normalizePrefix(String path) {
        requireNonNull(path, "prefix");
        String p = path;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            return "";
        }
        checkPrefix(p);
        return p + "/";
    }

    private static void checkPrefix(String p) {
        try {
            BackupTarget.checkName(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid S3 key prefix '" + p
                    + "': '/'-separated parts of letters, digits, '.', '_' and '-', none empty, '.' or '..'");
        }
    }

    private static void checkEndpoint(URI endpoint) {
        String scheme = endpoint.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw new IllegalArgumentException("S3 endpoint '" + endpoint + "' must be an http:// or https:// URL");
        }
        if (endpoint.getHost() == null) {
            throw new IllegalArgumentException("S3 endpoint '" + endpoint + "' has no host");
        }
        if (endpoint.getRawQuery() != null || endpoint.getRawFragment() != null || endpoint.getRawUserInfo() != null) {
            throw new IllegalArgumentException("S3 endpoint '" + endpoint + "' must be just scheme://host[:port][/path]");
        }
    }

    private static Map<String, String> parameters(String rawQuery, String shown) {
        Map<String, String> params = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return params;
        }
        for (String pair : rawQuery.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw bad(shown, "parameter '" + redact(pair) + "' is not NAME=VALUE");
            }
            String name = decode(pair.substring(0, eq), "a parameter name", shown);
            String value = decode(pair.substring(eq + 1), "parameter " + name, shown);
            if (!PARAMETERS.contains(name)) {
                throw bad(shown, "unknown parameter '" + name + "' (known: endpoint, region, accessKey, secretKey, createBucket)");
            }
            if (params.put(name, value) != null) {
                throw bad(shown, "parameter '" + name + "' given twice");
            }
        }
        return params;
    }

    private static String decode(String raw, String what, String shown) {
        try {
            // URLDecoder would turn '+' into a space; in a URI query it is a literal '+'.
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // Not the decoder's message: it quotes the value, which may be the secret key.
            throw bad(shown, "bad percent-encoding in " + what);
        }
    }

    private static IllegalArgumentException bad(String shownSpec, String why) {
        return new IllegalArgumentException("invalid S3 backup target '" + shownSpec + "': " + why + "; expected " + FORM);
    }
}
