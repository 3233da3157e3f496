package io.petrel.gateway;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentSourceRequestContent;
import org.eclipse.jetty.server.Request;


/**
 * A client's request body as the proxy forwards it. A body of known length up to
 * {@code replayable.body.bytes} is read first, so it can be sent again to another zone; a larger one
 * (an artifact, big action code) or one of unknown length is streamed straight through and can only
 * be resent if no byte of it has left yet.
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

    /** Streams the client's body straight through (one of unknown length, or larger than the limit). */
    record Streamed(String contentType, Request source) implements RequestBody {
        @Override
        public org.eclipse.jetty.client.Request.Content content() {
            return new ContentSourceRequestContent(source, contentType);
        }

        @Override
        public boolean replayable() {
            return false;
        }
    }
}
