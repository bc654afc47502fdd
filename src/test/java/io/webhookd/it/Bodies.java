package io.webhookd.it;

import io.vertx.core.json.JsonObject;
import io.webhookd.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/** Webhook bodies derived from the fixtures, with ids unique to one test run. */
final class Bodies {

  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private Bodies() {
  }

  /** An event id no other test (or earlier run) uses. */
  static String uniqueId(String hint) {
    return "EVit-" + hint + "-" + RUN + "-" + SEQUENCE.incrementAndGet();
  }

  /** A {@code webhook-id} no other test uses. */
  static String uniqueWebhookId() {
    return "msg_it_" + RUN + "_" + SEQUENCE.incrementAndGet();
  }

  /** The fixture's own {@code id}. */
  static String fixtureId(String fixture) {
    return Fixtures.json(fixture).getString("id");
  }

  /** The fixture re-encoded with another {@code id}. */
  static byte[] withId(String fixture, String id) {
    return bytes(Fixtures.json(fixture).put("id", id));
  }

  /**
   * "Some valid event" for the given scheme, answered {@code queued}: an outbound
   * {@code message.delivered}. (Inbound texts, {@code message.received}, are critical events: their
   * sender is answered only after processing, {@code processed}.) For Standard Webhooks it is the
   * 2026 envelope turned into a delivery receipt.
   */
  static byte[] eventFor(Scheme scheme, String id) {
    if (scheme != Scheme.STANDARD_WEBHOOKS) {
      return withId(Fixtures.LEGACY_V2_MESSAGE_DELIVERED, id);
    }
    JsonObject envelope = Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED).put("id", id).put("type", "message.delivered");
    envelope.getJsonObject("data").getJsonObject("resource")
        .put("direction", "outgoing").put("text", "Thanks, see you tomorrow").put("status", "delivered");
    return bytes(envelope);
  }

  /**
   * A legacy fixture (its resource under {@code data.object}) re-encoded with another {@code id},
   * moved into conversation {@code conversationId} and given {@code createdAt} as the event's own
   * time: for traffic spread over many conversations.
   */
  static byte[] inConversation(String fixture, String id, String conversationId, Instant createdAt) {
    JsonObject envelope = Fixtures.json(fixture).put("id", id).put("createdAt", createdAt.toString());
    envelope.getJsonObject("data").getJsonObject("object").put("conversationId", conversationId);
    return bytes(envelope);
  }

  /** Whether the service answers this fixture only after processing it (an inbound text). */
  static boolean isCritical(String fixture) {
    return "message.received".equals(Fixtures.json(fixture).getString("type"));
  }

  static byte[] bytes(JsonObject json) {
    return json.encode().getBytes(StandardCharsets.UTF_8);
  }
}
