package io.petrel.gateway;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentSourceRequestContent;
import org.eclipse.jetty.client.InputStreamRequestContent;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;

/**
 * A client's request body as the proxy forwards it. A body up to {@code replayable.body.bytes} is
 * read first, so it can be sent again to another zone; a larger one (an artifact, big action code)
 * is streamed straight through and can only be resent if no byte of it has left yet.
 */
sealed interface RequestBody {
    /** The content for one attempt, or null for no body. */
    org.eclipse.jetty.client.Request.Content content();

    /** Whether a later attempt can send the whole body again, even after an earlier one sent some of it. */
    boolean replayable();

    record None() implements RequestBody {
        @Override
        public org.eclipse.jetty.client.Request.Content content() {
            return null;
        }

        @Override
        public boolean replayable() {
            return true;
        }
    }

    record Buffered(String contentType, byte[] bytes) implements RequestBody {
        @Override
        public org.eclipse.jetty.client.Request.Content content() {
            return new BytesRequestContent(contentType, bytes);
        }

        @Override
        public boolean replayable() {
            return true;
        }
    }

    /** Streams the rest of the client's body; {@code prefix} is what was read before the limit was found exceeded. */
    record Streamed(String contentType, Request source, byte[] prefix, InputStream rest) implements RequestBody {
        @Override
        public org.eclipse.jetty.client.Request.Content content() {
            if (rest == null) {
                return new ContentSourceRequestContent(source, contentType);
            }
            return new InputStreamRequestContent(contentType, new SequenceInputStream(new ByteArrayInputStream(prefix), rest));
        }

        @Override
        public boolean replayable() {
            return false;
        }
    }

    static RequestBody read(Request request, long limit) throws IOException {
        long length = request.getLength();
        boolean chunked = length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (length == 0 || (length < 0 && !chunked)) {
            return new None();
        }
        if (length > limit) {
            return new Streamed(type, request, null, null);
        }
        InputStream in = Content.Source.asInputStream(request);
        if (length > 0) {
            byte[] bytes = in.readNBytes((int) length);
            if (bytes.length < length) {
                throw new EOFException("the client sent " + bytes.length + " of the " + length + " bytes it announced");
            }
            return new Buffered(type, bytes);
        }
        byte[] head = in.readNBytes((int) limit + 1);
        return head.length <= limit ? new Buffered(type, head) : new Streamed(type, request, head, in);
    }
}
