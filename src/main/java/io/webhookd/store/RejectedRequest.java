package io.webhookd.store;

/**
 * A correctly signed request whose body could not be read as an event; kept for an operator.
 *
 * @param bodySha256 hex SHA-256 of the body, its identity: the same body is kept once
 * @param reason     the error code the sender got, e.g. {@code invalid_json}
 */
public record RejectedRequest(
    String bodySha256, String reason, String scheme, String contentType, long receivedAt, byte[] body) {
}
