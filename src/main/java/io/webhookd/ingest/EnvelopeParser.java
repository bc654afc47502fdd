package io.webhookd.ingest;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.ContentHash;
import io.webhookd.event.WebhookEvent;
import java.time.Instant;
import java.time.format.DateTimeParseException;

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
    JsonObject envelope;
    try {
      envelope = new JsonObject(Buffer.buffer(body));
    } catch (DecodeException | ClassCastException e) {
      throw new InvalidEnvelopeException("invalid_json", "the body is not a JSON object");
    }
    String type = string(envelope, "type");
    if (type == null || type.isEmpty() || type.length() > MAX_TYPE_LENGTH) {
      throw new InvalidEnvelopeException("invalid_envelope", "the envelope has no event type");
    }
    JsonObject data = object(envelope, "data");
    JsonObject resource = data == null ? null : first(object(data, "object"), object(data, "resource"));
    JsonObject context = data == null ? null : object(data, "context");

    String createdAt = first(string(envelope, "createdAt"), resource == null ? null : string(resource, "createdAt"));
    long occurredAt = parseInstant(createdAt, receivedAt);
    String from = first(field(resource, "from"), field(context, "senderIdentifier"));
    String to = first(recipients(resource, "to"), recipients(context, "recipientIdentifiers"));
    String text = first(field(resource, "body"), field(resource, "text"));
    String conversation = first(field(resource, "conversationId"), field(context, "conversationId"));

    String eventId = webhookId != null ? webhookId : string(envelope, "id");
    if (eventId == null || eventId.isEmpty()) {
      eventId = "sha256:" + ContentHash.ofFields(type, createdAt, from, to, text);
    } else if (eventId.length() > MAX_ID_LENGTH) {
      throw new InvalidEnvelopeException("invalid_envelope", "the event id is too long");
    }
    String partitionKey = partitionKey(conversation, from, to, resource, type);
    boolean inbound = "incoming".equals(field(resource, "direction"));
    return new Envelope(new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, eventId, type, occurredAt,
        partitionKey, receivedAt, scheme, body), text, inbound);
  }

  /** The conversation; else the unordered pair of numbers; else the resource itself. */
  private static String partitionKey(
      String conversation, String from, String to, JsonObject resource, String type) {
    if (conversation != null && !conversation.isEmpty()) {
      return "conversation:" + conversation;
    }
    if (from != null && to != null) {
      String firstTo = to.split(",")[0].trim();
      return from.compareTo(firstTo) <= 0 ? "numbers:" + from + "|" + firstTo : "numbers:" + firstTo + "|" + from;
    }
    String resourceId = field(resource, "id");
    if (resourceId != null) {
      return "resource:" + resourceId;
    }
    return "type:" + type;
  }

  private static long parseInstant(String text, long fallback) {
    if (text == null) {
      return fallback;
    }
    try {
      return Instant.parse(text).toEpochMilli();
    } catch (DateTimeParseException e) {
      return fallback;
    }
  }

  /** {@code to} is a string (comma-joined when several) in legacy envelopes, an array elsewhere. */
  private static String recipients(JsonObject json, String key) {
    if (json == null) {
      return null;
    }
    Object value = json.getValue(key);
    if (value instanceof JsonArray array) {
      StringBuilder joined = new StringBuilder();
      for (Object item : array) {
        if (item instanceof String s) {
          joined.append(joined.length() == 0 ? "" : ",").append(s);
        }
      }
      return joined.length() == 0 ? null : joined.toString();
    }
    return value instanceof String s ? s : null;
  }

  private static String field(JsonObject json, String key) {
    return json == null ? null : string(json, key);
  }

  private static String string(JsonObject json, String key) {
    return json.getValue(key) instanceof String s ? s : null;
  }

  private static JsonObject object(JsonObject json, String key) {
    return json.getValue(key) instanceof JsonObject o ? o : null;
  }

  @SafeVarargs
  private static <T> T first(T... candidates) {
    for (T candidate : candidates) {
      if (candidate != null) {
        return candidate;
      }
    }
    return null;
  }
}
