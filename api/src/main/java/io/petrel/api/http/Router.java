package io.petrel.api.http;

/** Answers one exchange; throws {@link io.petrel.api.ApiException} for an error answer. */
@FunctionalInterface
public interface Router {
    void route(Exchange exchange) throws Exception;
}
