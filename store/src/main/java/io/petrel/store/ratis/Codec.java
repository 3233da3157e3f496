package io.petrel.store.ratis;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The binary form of requests, log entries and replies (CBOR via Jackson).
 *
 * <p>A log entry is {@code [8 bytes: leader time in ms][CBOR list of WriteCmd]}: the leader stamps its
 * clock when it accepts the entry so that every replica expires leases at the same log position.
 */
final class Codec {
    private static final ObjectMapper CBOR = CBORMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private static final TypeReference<List<WriteCmd>> CMDS = new TypeReference<>() { };
    private static final TypeReference<List<WriteResult>> RESULTS = new TypeReference<>() { };

    private Codec() {
    }

    static Message writeRequest(List<WriteCmd> cmds) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes(cmds)));
    }

    static List<WriteCmd> decodeWriteRequest(ByteString content) {
        return read(content.toByteArray(), CMDS);
    }

    static ByteString logEntry(long leaderTimeMillis, ByteString request) {
        ByteBuffer header = ByteBuffer.allocate(Long.BYTES).putLong(0, leaderTimeMillis);
        return UnsafeByteOperations.unsafeWrap(header).concat(request);
    }

    static long logEntryTime(ByteString logData) {
        return logData.substring(0, Long.BYTES).asReadOnlyByteBuffer().getLong();
    }

    static List<WriteCmd> logEntryCommands(ByteString logData) {
        return decodeWriteRequest(logData.substring(Long.BYTES));
    }

    static byte[] encodeRegion(RegionState region) {
        return bytes(region);
    }

    static RegionState decodeRegion(byte[] bytes) {
        return read(bytes, RegionState.class);
    }

    static Message writeReply(List<WriteResult> results) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes(results)));
    }

    static List<WriteResult> decodeWriteReply(ByteString content) {
        return read(content.toByteArray(), RESULTS);
    }

    static Message query(Query query) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes(query)));
    }

    static Query decodeQuery(ByteString content) {
        return read(content.toByteArray(), Query.class);
    }

    static Message queryReply(QueryResult result) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes(result)));
    }

    static QueryResult decodeQueryReply(ByteString content) {
        return read(content.toByteArray(), QueryResult.class);
    }

    private static byte[] bytes(Object value) {
        try {
            return CBOR.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    private static <T> T read(byte[] bytes, Class<T> type) {
        try {
            return CBOR.readValue(bytes, type);
        } catch (IOException e) {
            throw new MalformedMessageException("malformed " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static <T> T read(byte[] bytes, TypeReference<T> type) {
        try {
            return CBOR.readValue(bytes, type);
        } catch (IOException e) {
            throw new MalformedMessageException("malformed message: " + e.getMessage(), e);
        }
    }

    /** A message that does not decode: refused before it reaches the log, or answered with an error. */
    static final class MalformedMessageException extends RuntimeException {
        MalformedMessageException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
