package io.webhookd.process;

import io.vertx.core.json.JsonObject;
import io.webhookd.testing.Fixtures;
import java.time.Instant;
import java.util.UUID;

/** Webhook bodies for the pipeline tests, in OpenPhone's legacy envelope ({@code data.object}). */
final class EventBodies {

  private EventBodies() {
  }

  /** An event id no other test uses. */
  static String newEventId(String label) {
    return "EV" + label + UUID.randomUUID().toString().replace("-", "");
  }

  /** A fixture body with its event id replaced. */
  static byte[] fixture(String fixture, String eventId) {
    JsonObject body = Fixtures.json(fixture);
    body.put("id", eventId);
    return body.toBuffer().getBytes();
  }

  /**
   * A message event of the given type in a conversation, created at {@code createdAt}; {@code seq}
   * is carried along in the resource for diagnostics. Outgoing, so only its type decides whether it
   * is critical.
   */
  static byte[] message(String type, String eventId, String conversationId, Instant createdAt, int seq) {
    JsonObject resource = new JsonObject()
        .put("id", "AC" + UUID.randomUUID().toString().replace("-", ""))
        .put("object", "message")
        .put("from", "+18885550101")
        .put("to", "+18005550100")
        .put("direction", "outgoing")
        .put("body", "message " + seq + " of " + conversationId)
        .put("media", new io.vertx.core.json.JsonArray())
        .put("status", "delivered")
        .put("createdAt", createdAt.toString())
        .put("userId", "USu5AsEHuQ")
        .put("phoneNumberId", "PNtoDbDhuz")
        .put("conversationId", conversationId)
        .put("seq", seq);
    return envelope(type, eventId, createdAt, resource);
  }

  /** An event of a type the service has no handler for in the tests, e.g. {@code task.created}. */
  static byte[] task(String type, String eventId, Instant createdAt) {
    JsonObject resource = new JsonObject()
        .put("id", "TK" + UUID.randomUUID().toString().replace("-", ""))
        .put("object", "task")
        .put("title", "Call the customer back")
        .put("createdAt", createdAt.toString());
    return envelope(type, eventId, createdAt, resource);
  }

  private static byte[] envelope(String type, String eventId, Instant createdAt, JsonObject resource) {
    return new JsonObject()
        .put("id", eventId)
        .put("object", "event")
        .put("apiVersion", "v3")
        .put("createdAt", createdAt.toString())
        .put("type", type)
        .put("data", new JsonObject().put("object", resource))
        .toBuffer().getBytes();
  }
}
