package io.webhookd.ingest;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.ContentHash;
import io.webhookd.event.OpenPhoneEnvelope;
import io.webhookd.event.WebhookEvent;
import java.util.List;

/**
 * Reads the three envelope generations OpenPhone sends into one {@link WebhookEvent}:
 * legacy v2/v3 and API v4 ({@code data.object}, text in {@code body} or {@code text}, {@code to} a
 * string or an array) and 2026-03-30 ({@code data.resource} plus {@code data.context}).
 */
public final class EnvelopeParser {

  private static final int MAX_TYPE_LENGTH = 100;
  private static final int MAX_ID_LENGTH = 255;

  private EnvelopeParser() {
  }

  /**
   * @param webhookId the Standard Webhooks id, which takes precedence as the event id; or null
   */
  public static Envelope parse(
      byte[] body, String scheme, String webhookId, long receivedAt) throws InvalidEnvelopeException {
    JsonObject json;
    try {
      json = new JsonObject(Buffer.buffer(body));
    } catch (DecodeException | ClassCastException e) {
      throw new InvalidEnvelopeException("invalid_json", "the body is not a JSON object");
    }
    OpenPhoneEnvelope envelope = new OpenPhoneEnvelope(json);
    String type = envelope.type();
    if (type == null || type.isEmpty() || type.length() > MAX_TYPE_LENGTH) {
      throw new InvalidEnvelopeException("invalid_envelope", "the envelope has no event type");
    }
    String createdAt = envelope.createdAt();
    Long created = OpenPhoneEnvelope.epochMillis(createdAt);
    long occurredAt = created == null ? receivedAt : created;
    String from = envelope.from();
    List<String> to = envelope.to();
    String text = envelope.text();

    String eventId = webhookId != null ? webhookId : envelope.id();
    if (eventId == null || eventId.isEmpty()) {
      eventId = "sha256:" + ContentHash.ofFields(type, createdAt, from, String.join(",", to), text);
    } else if (eventId.length() > MAX_ID_LENGTH) {
      throw new InvalidEnvelopeException("invalid_envelope", "the event id is too long");
    }
    String partitionKey = partitionKey(envelope, from, to, type);
    return new Envelope(new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, eventId, type, occurredAt,
        partitionKey, receivedAt, scheme, body), text, envelope.inbound(), json);
  }

  /** The conversation; else the unordered pair of numbers; else the resource itself. */
  private static String partitionKey(OpenPhoneEnvelope envelope, String from, List<String> to, String type) {
    String conversation = envelope.conversationId();
    if (conversation != null && !conversation.isEmpty()) {
      return "conversation:" + conversation;
    }
    if (from != null && !to.isEmpty()) {
      String firstTo = to.get(0);
      return from.compareTo(firstTo) <= 0 ? "numbers:" + from + "|" + firstTo : "numbers:" + firstTo + "|" + from;
    }
    String resourceId = envelope.resourceString("id");
    if (resourceId != null) {
      return "resource:" + resourceId;
    }
    return "type:" + type;
  }
}
