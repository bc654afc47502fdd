package io.webhookd.event;

/**
 * One webhook as the service understands it, whatever envelope generation it arrived in.
 *
 * @param source        who sent it; with {@code eventId} the event's identity
 * @param eventId       the sender's id for the event, or {@code sha256:...} of its identifying fields
 * @param type          the event type as sent, e.g. {@code message.received}
 * @param occurredAt    the event's own timestamp (epoch millis), which orders a conversation
 * @param partitionKey  the conversation the event belongs to
 * @param receivedAt    when this service received it (epoch millis)
 * @param scheme        the signature scheme that authenticated it
 * @param body          the raw request body, exactly as received
 */
public record WebhookEvent(
    String source,
    String eventId,
    String type,
    long occurredAt,
    String partitionKey,
    long receivedAt,
    String scheme,
    byte[] body) {

  public static final String SOURCE_OPENPHONE = "openphone";

  /** The identity the dedup guard and the store's unique key agree on. */
  public String dedupKey() {
    return source + ':' + eventId;
  }
}
