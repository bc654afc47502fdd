package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.OpenPhoneEnvelope;
import io.webhookd.process.EventHandler;
import io.webhookd.process.InvalidEventException;
import io.webhookd.store.Tx;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Call events, merged into one row per call whatever their order: status changes, and the
 * recording, voicemail, summary and transcript that attach when they come.
 */
final class CallHandler implements EventHandler {

  private static final Map<String, String> STATUS = Map.of(
      "call.ringing", "ringing", "call.answered", "answered", "call.completed", "completed",
      "call.missed", "missed", "call.forwarded", "forwarded");

  private final CrmContext crm;

  CallHandler(CrmContext crm) {
    this.crm = crm;
  }

  @Override
  public Future<JsonObject> handle(InboxEvent inbox, JsonObject json, Tx tx) {
    OpenPhoneEnvelope envelope = new OpenPhoneEnvelope(json);
    String type = inbox.event().type();
    // Summary and transcript resources are their own objects that name their call.
    String callId = envelope.resourceString("callId") != null ? envelope.resourceString("callId")
        : envelope.resourceString("id");
    if (callId == null || callId.isBlank()) {
      throw new InvalidEventException(type + " without a call id");
    }
    boolean inbound = envelope.inbound();
    String from = crm.phones().e164(envelope.from());
    List<String> to = envelope.to().stream().map(crm.phones()::e164).filter(Objects::nonNull).toList();
    String phone = inbound ? from : (to.isEmpty() ? null : to.get(0));
    long now = System.currentTimeMillis();
    JsonObject result = new JsonObject().put("call", callId);

    JsonObject recording = "call.recording.completed".equals(type) ? firstMedia(envelope) : null;
    JsonObject voicemail = envelope.resourceObject("voicemail");
    Calls.Facts facts = new Calls.Facts(callId, envelope.direction(), phone, from,
        to.isEmpty() ? null : to.get(0), status(type, envelope), envelope.conversationId(),
        envelope.phoneNumberId(), envelope.userId(),
        // A summary's or transcript's own creation time is not when the call started.
        envelope.resourceString("callId") == null ? envelope.resourceInstant("createdAt") : null,
        envelope.resourceInstant("answeredAt"), envelope.resourceInstant("completedAt"),
        envelope.resourceString("forwardedTo"),
        recording == null ? null : recording.getString("url"), integer(recording, "duration"),
        voicemail == null ? null : voicemail.getString("url"), integer(voicemail, "duration"),
        "call.summary.completed".equals(type) ? part(envelope, "summary", "nextSteps") : null,
        "call.transcript.completed".equals(type) ? part(envelope, "dialogue", "duration") : null);
    return Calls.upsert(tx, facts, now).compose(contactId -> {
      result.put("contact_id", contactId);
      return MessageHandler.automate(crm, tx, inbox, null, phone, contactId, envelope.phoneNumberId(),
          null, result, now);
    }).map(result);
  }

  /** The status an event reports; null for events that only attach something. */
  private static String status(String type, OpenPhoneEnvelope envelope) {
    String status = STATUS.get(type);
    if ("completed".equals(status)) {
      String reported = envelope.resourceString("status");
      if ("no-answer".equals(reported) || "missed".equals(reported)) {
        return "missed";
      }
    }
    return status;
  }

  private static JsonObject firstMedia(OpenPhoneEnvelope envelope) {
    Object media = envelope.resourceValue("media");
    if (media instanceof JsonArray array && !array.isEmpty() && array.getValue(0) instanceof JsonObject m) {
      return m;
    }
    return null;
  }

  private static Integer integer(JsonObject json, String field) {
    return json != null && json.getValue(field) instanceof Number n ? n.intValue() : null;
  }

  /** The named fields of the resource as a JSON text, or null when none is present. */
  private static String part(OpenPhoneEnvelope envelope, String... fields) {
    JsonObject part = new JsonObject();
    for (String field : fields) {
      Object value = envelope.resourceValue(field);
      if (value != null) {
        part.put(field, value);
      }
    }
    return part.isEmpty() ? null : part.encode();
  }
}
