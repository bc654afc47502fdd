package io.webhookd.crm;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Webhook bodies for the CRM tests, each made from an OpenPhone fixture with its ids, numbers, text
 * and times varied (and, for call summaries and transcripts, which have no fixture, shaped after
 * OpenPhone's documented {@code callSummary} and {@code callTranscript} objects).
 */
final class CrmBodies {

  /** The line (phone number id) and its number that the fixtures use. */
  static final String LINE = "PNtoDbDhuz";
  static final String LINE_NUMBER = "+18885550101";

  private CrmBodies() {
  }

  static byte[] bytes(JsonObject json) {
    return json.encode().getBytes(StandardCharsets.UTF_8);
  }

  /** An inbound text in the 2026-03-30 envelope (the STOP fixture), with the given ids, sender, text and time. */
  static JsonObject inboundText(String eventId, String messageId, String from, String text, Instant createdAt) {
    JsonObject json = Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED);
    json.put("id", eventId).put("createdAt", createdAt.toString());
    JsonObject data = json.getJsonObject("data");
    data.getJsonObject("resource").put("id", messageId).put("text", text)
        .put("createdAt", createdAt.minusMillis(100).toString());
    data.getJsonObject("context").put("senderIdentifier", from)
        .put("conversationId", "CN" + digits(from));
    return json;
  }

  /** An outgoing message event in the legacy v2 envelope (the delivered fixture). */
  static JsonObject outgoingStatus(String eventId, String type, String messageId, String status, Instant createdAt) {
    JsonObject json = Fixtures.json(Fixtures.LEGACY_V2_MESSAGE_DELIVERED);
    json.put("id", eventId).put("type", type).put("createdAt", createdAt.toString());
    json.getJsonObject("data").getJsonObject("object").put("id", messageId).put("status", status);
    return json;
  }

  /** A call event from the legacy v3 fixture of that type, for call {@code callId} in conversation {@code conversation}. */
  static JsonObject callEvent(String fixture, String eventId, String callId, String conversation, Instant createdAt) {
    JsonObject json = Fixtures.json(fixture);
    json.put("id", eventId).put("createdAt", createdAt.toString());
    json.getJsonObject("data").getJsonObject("object").put("id", callId).put("conversationId", conversation);
    return json;
  }

  /** {@code call.summary.completed}: a callSummary object naming its call by {@code callId}. */
  static JsonObject callSummary(String eventId, String callId, Instant createdAt) {
    return new JsonObject()
        .put("id", eventId).put("object", "event").put("apiVersion", "v3").put("createdAt", createdAt.toString())
        .put("type", "call.summary.completed")
        .put("data", new JsonObject().put("object", new JsonObject()
            .put("object", "callSummary").put("callId", callId).put("status", "completed")
            .put("summary", new JsonArray().add("The caller asked for a quote for two rooms."))
            .put("nextSteps", new JsonArray().add("Email the quote by Friday."))));
  }

  /** {@code call.transcript.completed}: a callTranscript object naming its call by {@code callId}. */
  static JsonObject callTranscript(String eventId, String callId, Instant createdAt) {
    return new JsonObject()
        .put("id", eventId).put("object", "event").put("apiVersion", "v3").put("createdAt", createdAt.toString())
        .put("type", "call.transcript.completed")
        .put("data", new JsonObject().put("object", new JsonObject()
            .put("object", "callTranscript").put("callId", callId).put("status", "completed")
            .put("createdAt", createdAt.minusSeconds(5).toString()).put("duration", 20)
            .put("dialogue", new JsonArray()
                .add(new JsonObject().put("content", "Hi, I would like a quote.").put("start", 0.4).put("end", 2.1)
                    .put("identifier", "+18005550100").putNull("userId"))
                .add(new JsonObject().put("content", "Sure, for how many rooms?").put("start", 2.3).put("end", 4.0)
                    .put("identifier", LINE_NUMBER).put("userId", "USu5AsEHuQ")))));
  }

  /** {@code contact.updated} from the legacy v3 fixture, with the given contact, names, numbers and updatedAt. */
  static JsonObject contactUpdated(String eventId, String contactId, String firstName, String lastName,
      JsonArray phones, Instant updatedAt) {
    JsonObject json = Fixtures.json(Fixtures.LEGACY_V3_CONTACT_UPDATED);
    json.put("id", eventId).put("createdAt", updatedAt.plusMillis(20).toString());
    json.getJsonObject("data").getJsonObject("object")
        .put("id", contactId).put("firstName", firstName).put("lastName", lastName)
        .put("fields", new JsonObject().put("Phone", phones)).put("updatedAt", updatedAt.toString());
    return json;
  }

  /** {@code contact.deleted}: the contact.updated fixture's shape with the deletion's type and time. */
  static JsonObject contactDeleted(String eventId, String contactId, Instant deletedAt) {
    JsonObject json = Fixtures.json(Fixtures.LEGACY_V3_CONTACT_UPDATED);
    json.put("id", eventId).put("type", "contact.deleted").put("createdAt", deletedAt.plusMillis(20).toString());
    json.getJsonObject("data").getJsonObject("object").put("id", contactId).put("updatedAt", deletedAt.toString());
    return json;
  }

  private static String digits(String phone) {
    return phone.replaceAll("\\D", "");
  }
}
