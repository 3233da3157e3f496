package io.petrel.backup.target;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.BucketLocationConstraint;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import static java.util.Objects.requireNonNull;

/**
 * A backup target that is a bucket of an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage,
 * S3Proxy ...), objects under an optional key prefix. S3 makes an object visible only once its upload
 * (single or multipart) has completed, so a reader never sees half of one.
 *
 * <p>Timeouts are short and the SDK retries only twice: the archiver retries on its own schedule, and a
 * stopped server must show up as a failure within seconds rather than as a hung backup. Files are
 * streamed from disk, in parts above {@link S3TargetConfig#multipartThreshold()}, never held in memory.
 */
public final class S3Target implements BackupTarget {
    private static final Logger log = LoggerFactory.getLogger(S3Target.class);

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Longest wait for a byte of a response (or a connection from the pool). */
    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    /** One attempt of a call that carries no large body. */
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(30);
    /** The SDK's attempts per call: the first and two retries. */
    static final int MAX_ATTEMPTS = 3;
    /** Uploads get ATTEMPT_TIMEOUT plus a second per this many bytes, i.e. they may run as slowly as 1 MiB/s. */
    private static final long UPLOAD_BYTES_PER_SECOND = 1L << 20;
    private static final int MAX_PARTS = 10_000;

    private final S3TargetConfig config;
    private final S3Client s3;

    /**
     * Opens the target, creating its bucket if {@link S3TargetConfig#createBucket()} and it is missing.
     *
     * @throws IOException if the bucket must be created (or checked) and the server cannot be reached,
     *                     refuses the credentials, or the name is taken by someone else
     */
    public S3Target(S3TargetConfig config) throws IOException {
        this(config, java.util.Optional.empty());
    }

    /**
     * Like {@link #S3Target(S3TargetConfig)}, with connections made from {@code localAddress}: a zone
     * talks from its own address, as it would from its own machine (and a partition test can cut it).
     */
    public S3Target(S3TargetConfig config, java.util.Optional<java.net.InetAddress> localAddress) throws IOException {
        this.config = requireNonNull(config, "config");
        this.s3 = client(config, localAddress);
        try {
            if (config.createBucket()) {
                ensureBucket();
            }
        } catch (IOException | RuntimeException e) {
            s3.close();
            throw e;
        }
    }

    private static S3Client client(S3TargetConfig config, java.util.Optional<java.net.InetAddress> localAddress) {
        Apache5HttpClient.Builder http = Apache5HttpClient.builder()
                .connectionTimeout(CONNECT_TIMEOUT)
                .connectionAcquisitionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(SOCKET_TIMEOUT);
        localAddress.ifPresent(http::localAddress);
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(config.region()))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(config.accessKey(), config.secretKey())))
                .httpClientBuilder(http)
                .overrideConfiguration(o -> o
                        .apiCallAttemptTimeout(ATTEMPT_TIMEOUT)
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(MAX_ATTEMPTS).build()))
                // Many S3-compatible servers reject the trailing checksums the SDK sends by default since
                // 2.30; backups carry a sha256 of every file in their manifest and verify it on restore.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (config.endpoint() != null) {
            // Self-hosted servers rarely have a DNS name per bucket, so address buckets by path.
            builder.endpointOverride(config.endpoint()).forcePathStyle(true);
        }
        return builder.build();
    }

    public S3TargetConfig config() {
        return config;
    }

    private void ensureBucket() throws IOException {
        try {
            s3.headBucket(b -> b.bucket(config.bucket()));
            return;
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw failure("checking bucket", config.bucket(), e);
            }
        } catch (SdkException e) {
            throw failure("checking bucket", config.bucket(), e);
        }
        try {
            s3.createBucket(b -> {
                b.bucket(config.bucket());
                // us-east-1 is the default location and S3 refuses it as an explicit constraint.
                if (!config.region().equals(S3TargetConfig.DEFAULT_REGION)) {
                    b.createBucketConfiguration(c -> c.locationConstraint(BucketLocationConstraint.fromValue(config.region())));
                }
            });
            log.info("created bucket {} for backup target {}", config.bucket(), describe());
        } catch (BucketAlreadyOwnedByYouException e) {
            // Another process created it meanwhile: just as good.
        } catch (SdkException e) {
            throw failure("creating bucket", config.bucket(), e);
        }
    }

    private String key(String name) {
        return config.prefix() + BackupTarget.checkName(name);
    }

    @Override
    public void put(String name, Path file) throws IOException {
        String key = key(name);
        requireNonNull(file, "file");
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new IOException(describe() + ": putting " + name + " failed: cannot read " + file + " (" + e + ")", e);
        }
        if (size > config.multipartThreshold()) {
            putInParts(name, key, file, size);
            return;
        }
        try {
            s3.putObject(b -> b.bucket(config.bucket()).key(key).contentLength(size)
                            .overrideConfiguration(uploadTimeout(size)),
                    RequestBody.fromFile(file));
        } catch (SdkException | UncheckedIOException e) {
            throw failure("putting", name, e);
        }
    }

    @Override
    public void put(String name, byte[] content) throws IOException {
        String key = key(name);
        requireNonNull(content, "content");
        try {
            s3.putObject(b -> b.bucket(config.bucket()).key(key).contentLength((long) content.length)
                            .overrideConfiguration(uploadTimeout(content.length)),
                    RequestBody.fromBytes(content));
        } catch (SdkException e) {
            throw failure("putting", name, e);
        }
    }

    /**
     * A conditional PUT ({@code If-None-Match: *}): the server refuses it with 412 if the key exists. A
     * server that ignores the header would make this unsafe; {@code dr} checks that before relying on it.
     */
    @Override
    public boolean createIfAbsent(String name, byte[] content) throws IOException {
        String key = key(name);
        requireNonNull(content, "content");
        try {
            s3.putObject(b -> b.bucket(config.bucket()).key(key).contentLength((long) content.length).ifNoneMatch("*")
                            .overrideConfiguration(uploadTimeout(content.length)),
                    RequestBody.fromBytes(content));
            return true;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 409) {
                return false;
            }
            if (e.statusCode() == 501) {
                throw new UnsupportedOperationException(describe() + " cannot create an object only if it is absent (conditional PUT)", e);
            }
            throw failure("creating", name, e);
        } catch (SdkException e) {
            throw failure("creating", name, e);
        }
    }

    private void putInParts(String name, String key, Path file, long size) throws IOException {
        // S3 allows at most 10,000 parts, so very large files get larger parts.
        long partSize = Math.max(config.partSize(), Math.ceilDiv(size, MAX_PARTS));
        String uploadId;
        try {
            uploadId = s3.createMultipartUpload(b -> b.bucket(config.bucket()).key(key)).uploadId();
        } catch (SdkException e) {
            throw failure("starting multipart upload of", name, e);
        }
        try {
            List<CompletedPart> parts = new ArrayList<>();
            long offset = 0;
            for (int number = 1; offset < size; number++) {
                long length = Math.min(partSize, size - offset);
                parts.add(uploadPart(key, uploadId, number, file, offset, length));
                offset += length;
            }
            s3.completeMultipartUpload(b -> b.bucket(config.bucket()).key(key).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts))
                    // The server assembles the object now: give it time in proportion to the size.
                    .overrideConfiguration(uploadTimeout(size / 64)));
        } catch (SdkException | UncheckedIOException | IOException e) {
            try {
                s3.abortMultipartUpload(b -> b.bucket(config.bucket()).key(key).uploadId(uploadId));
            } catch (SdkException abortFailed) {
                // Left for the bucket's lifecycle rule (or a later sweep); the put fails either way.
                e.addSuppressed(abortFailed);
            }
            throw failure("putting", name, e);
        }
    }

    private CompletedPart uploadPart(String key, String uploadId, int number, Path file, long offset, long length)
            throws IOException {
        UploadPartRequest request = UploadPartRequest.builder()
                .bucket(config.bucket()).key(key).uploadId(uploadId).partNumber(number).contentLength(length)
                .overrideConfiguration(uploadTimeout(length))
                .build();
        try (FileRanges ranges = new FileRanges(file, offset, length)) {
            String eTag = s3.uploadPart(request, RequestBody.fromContentProvider(ranges, length, "application/octet-stream")).eTag();
            return CompletedPart.builder().partNumber(number).eTag(eTag).build();
        }
    }

    private static AwsRequestOverrideConfiguration uploadTimeout(long bytes) {
        return AwsRequestOverrideConfiguration.builder()
                .apiCallAttemptTimeout(ATTEMPT_TIMEOUT.plusSeconds(bytes / UPLOAD_BYTES_PER_SECOND))
                .build();
    }

    @Override
    public InputStream get(String name) throws IOException {
        String key = key(name);
        try {
            return new ObjectStream(name, s3.getObject(b -> b.bucket(config.bucket()).key(key)));
        } catch (NoSuchKeyException e) {
            throw new NoSuchObjectException("no object " + name + " in " + describe());
        } catch (SdkException e) {
            throw failure("getting", name, e);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) throws IOException {
        String key = key(name);
        try {
            HeadObjectResponse head = s3.headObject(b -> b.bucket(config.bucket()).key(key));
            return Optional.of(new ObjectInfo(name, head.contentLength()));
        } catch (S3Exception e) {
            // A HEAD answer has no body, so a 404 may come without an error code.
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("statting", name, e);
        } catch (SdkException e) {
            throw failure("statting", name, e);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        requireNonNull(prefix, "prefix");
        String keyPrefix = config.prefix() + prefix;
        List<ObjectInfo> found = new ArrayList<>();
        String token = null;
        try {
            do {
                ListObjectsV2Request.Builder request = ListObjectsV2Request.builder()
                        .bucket(config.bucket()).prefix(keyPrefix).maxKeys(config.listPageSize());
                if (token != null) {
                    request.continuationToken(token);
                }
                ListObjectsV2Response page = s3.listObjectsV2(request.build());
                for (S3Object object : page.contents()) {
                    String name = object.key().substring(config.prefix().length());
                    // Keys not written by a target (folder markers, foreign tools' files) are not objects.
                    if (isName(name)) {
                        found.add(new ObjectInfo(name, object.size()));
                    }
                }
                token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
            } while (token != null);
        } catch (SdkException e) {
            throw failure("listing", "'" + prefix + "'", e);
        }
        // S3 sorts by UTF-8 bytes; names are ASCII, but sorting here keeps the contract whatever the server does.
        found.sort(Comparator.comparing(ObjectInfo::name));
        return found;
    }

    private static boolean isName(String name) {
        try {
            BackupTarget.checkName(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public void delete(String name) throws IOException {
        String key = key(name);
        try {
            // S3 answers a delete of a missing key with success, as the contract wants.
            s3.deleteObject(b -> b.bucket(config.bucket()).key(key));
        } catch (SdkException e) {
            throw failure("deleting", name, e);
        }
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public void close() {
        s3.close();
    }

    @Override
    public String toString() {
        return "S3Target[" + describe() + "]";
    }

    private IOException failure(String doing, String name, Exception e) {
        return new IOException(describe() + ": " + doing + " " + name + " failed: " + reason(e), e);
    }

    private static String reason(Throwable e) {
        if (e instanceof S3Exception s3e) {
            String code = s3e.awsErrorDetails() == null ? null : s3e.awsErrorDetails().errorCode();
            String message = s3e.awsErrorDetails() == null ? null : s3e.awsErrorDetails().errorMessage();
            return "HTTP " + s3e.statusCode() + (code == null ? "" : " " + code) + (message == null ? "" : ": " + message);
        }
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            return reason(u.getCause());
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    /**
     * Reopenable streams over one range of a file, for one part: the SDK opens a new stream for each
     * attempt. Every stream opened is closed when the part is done, whether the SDK closed it or not.
     */
    private static final class FileRanges implements ContentStreamProvider, AutoCloseable {
        private final Path file;
        private final long offset;
        private final long length;
        private final List<FileChannel> opened = new ArrayList<>();

        FileRanges(Path file, long offset, long length) {
            this.file = file;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public synchronized InputStream newStream() {
            FileChannel channel;
            try {
                channel = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            opened.add(channel);
            return new RangeStream(channel, offset, offset + length);
        }

        @Override
        public synchronized void close() throws IOException {
            IOException first = null;
            for (FileChannel channel : opened) {
                try {
                    channel.close();
                } catch (IOException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            opened.clear();
            if (first != null) {
                throw first;
            }
        }
    }

    /** Reads [position, end) of a channel by positional reads, so streams of one file never share a position. */
    private static final class RangeStream extends InputStream {
        private final FileChannel channel;
        private long position;
        private final long end;

        RangeStream(FileChannel channel, long position, long end) {
            this.channel = channel;
            this.position = position;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (position >= end) {
                return -1;
            }
            int want = (int) Math.min(len, end - position);
            int n = channel.read(ByteBuffer.wrap(buffer, off, want), position);
            if (n < 0) {
                throw new IOException("file shrank while being uploaded (ends before byte " + end + ")");
            }
            position += n;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, end - position);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * An object being read: failures name the target and the object, and closing before the end aborts the
     * connection instead of draining the rest of a possibly huge object.
     */
    private final class ObjectStream extends FilterInputStream {
        private final String name;
        private final ResponseInputStream<GetObjectResponse> response;
        private boolean atEnd;

        ObjectStream(String name, ResponseInputStream<GetObjectResponse> response) {
            super(response);
            this.name = name;
            this.response = response;
        }

        @Override
        public int read() throws IOException {
            try {
                int b = super.read();
                atEnd |= b < 0;
                return b;
            } catch (IOException | SdkException e) {
                throw failure("reading", name, e);
            }
        }

        @Override
        public int read(byte[] buffer, int off, int len) throws IOException {
            try {
                int n = super.read(buffer, off, len);
                atEnd |= n < 0;
                return n;
            } catch (IOException | SdkException e) {
                throw failure("reading", name, e);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            try {
                return super.skip(n);
            } catch (IOException | SdkException e) {
                throw failure("reading", name, e);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                if (!atEnd) {
                    response.abort();
                }
                super.close();
            } catch (IOException | SdkException e) {
                // Nothing more will be read; a failed close must not fail a caller that got what it wanted.
                log.debug("closing {} of {}: {}", name, describe(), e.toString());
            }
        }
    }
}
