package io.webhookd.observe;

import io.vertx.core.json.JsonObject;
import io.webhookd.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** Webhook bodies made from the OpenPhone fixtures, with event ids unique to one test. */
final class ObserveBodies {

  private ObserveBodies() {
  }

  static String newId(String hint) {
    return "EVobs" + hint + UUID.randomUUID().toString().replace("-", "");
  }

  /** An outgoing text's delivery receipt (not critical: answered "queued"). */
  static byte[] delivered(String id) {
    return bytes(Fixtures.json(Fixtures.LEGACY_V2_MESSAGE_DELIVERED).put("id", id));
  }

  /** An inbound text (critical: answered after processing, within the budget). */
  static byte[] received(String id) {
    return bytes(Fixtures.json(Fixtures.LEGACY_V2_MESSAGE_RECEIVED).put("id", id));
  }

  /** An inbound text with the given text (API v4 envelope, {@code data.object.text}). */
  static byte[] receivedWithText(String id, String text) {
    JsonObject body = Fixtures.json(Fixtures.API_V4_MESSAGE_RECEIVED).put("id", id);
    body.getJsonObject("data").getJsonObject("object").put("text", text);
    return bytes(body);
  }

  /** An outgoing text's delivery receipt with the given text (legacy {@code data.object.body}). */
  static byte[] deliveredWithText(String id, String text) {
    JsonObject body = Fixtures.json(Fixtures.LEGACY_V2_MESSAGE_DELIVERED).put("id", id);
    body.getJsonObject("data").getJsonObject("object").put("body", text);
    return bytes(body);
  }

  static byte[] callCompleted(String id) {
    return bytes(Fixtures.json(Fixtures.LEGACY_V3_CALL_COMPLETED).put("id", id));
  }

  static byte[] contactUpdated(String id) {
    return bytes(Fixtures.json(Fixtures.LEGACY_V3_CONTACT_UPDATED).put("id", id));
  }

  /** A type OpenPhone may add one day and the service does not know: counted as "unknown". */
  static byte[] taskCreated(String id) {
    return bytes(new JsonObject()
        .put("id", id)
        .put("object", "event")
        .put("apiVersion", "v3")
        .put("createdAt", "2024-05-01T10:00:00.000Z")
        .put("type", "task.created")
        .put("data", new JsonObject().put("object", new JsonObject()
            .put("id", "TK" + UUID.randomUUID().toString().replace("-", ""))
            .put("object", "task")
            .put("title", "Call the customer back"))));
  }

  static byte[] bytes(JsonObject json) {
    return json.encode().getBytes(StandardCharsets.UTF_8);
  }
}
