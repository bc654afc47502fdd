package io.webhookd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.EventTypes;
import io.webhookd.ingest.WebhookSigner;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Set;
import java.util.TreeSet;

/**
 * Sample webhook bodies for {@code webhookd send}, like a provider's "send test event" button: each
 * has a fresh event id and the current time. Signed with the Standard Webhooks scheme it is a
 * 2026-03-30 envelope ({@code data.resource} and {@code data.context}); otherwise the envelope the
 * app's webhooks send ({@code data.object}).
 */
final class SampleEvents {

  static final String DEFAULT_TYPE = "message.received";
  static final String CUSTOMER = "+18005550100";
  static final String BUSINESS = "+18885550101";
  private static final SecureRandom RANDOM = new SecureRandom();
  /** As the provider writes times: UTC, to the millisecond. */
  private static final DateTimeFormatter CREATED_AT =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private SampleEvents() {
  }

  /** Every type a sample exists for. */
  static Set<String> types() {
    Set<String> types = new TreeSet<>();
    types.addAll(EventTypes.MESSAGES);
    types.addAll(EventTypes.CALLS);
    types.addAll(EventTypes.CONTACTS);
    types.add(EventTypes.OPT_OUT);
    return types;
  }

  /**
   * @throws IllegalArgumentException for a type without a sample
   */
  static byte[] body(String type, WebhookSigner.Scheme scheme, Instant now) {
    if (!types().contains(type)) {
      throw new IllegalArgumentException("no sample for event type '" + type + "'; samples exist for "
          + String.join(", ", types()));
    }
    String at = CREATED_AT.format(now);
    String conversation = "CN" + hex(16);
    JsonObject resource = resource(type, at);
    JsonObject envelope = new JsonObject().put("id", "EV" + hex(16));
    if (scheme != WebhookSigner.Scheme.STANDARD) {
      if (resource.containsKey("from")) {
        resource.put("conversationId", conversation);
      }
      envelope.put("object", "event").put("apiVersion", "v3").put("createdAt", at).put("type", type)
          .put("data", new JsonObject().put("object", resource));
      return envelope.encode().getBytes(StandardCharsets.UTF_8);
    }
    // 2026-03-30: the parties and the conversation move to data.context; the text is "text".
    Object from = resource.remove("from");
    Object to = resource.remove("to");
    resource.remove("userId");
    resource.remove("phoneNumberId");
    if (resource.containsKey("body")) {
      resource.put("text", resource.remove("body"));
    }
    JsonObject context = new JsonObject()
        .put("orgId", "ORsample")
        .put("phoneNumberId", "PNsample")
        .put("conversationId", conversation)
        .put("userId", "USsample")
        .put("contacts", new JsonObject().put("ids", new JsonArray()).put("lookupStatus", "unmatched"));
    if (from != null) {
      context.put("senderIdentifier", from).put("recipientIdentifiers", new JsonArray().add(to));
    }
    envelope.put("apiVersion", "2026-03-30").put("createdAt", at).put("type", type)
        .put("data", new JsonObject().put("resource", resource).put("context", context));
    return envelope.encode().getBytes(StandardCharsets.UTF_8);
  }

  private static JsonObject resource(String type, String at) {
    if (EventTypes.CONTACTS.contains(type)) {
      return new JsonObject()
          .put("id", "CT" + hex(12))
          .put("object", "contact")
          .put("firstName", "Sample")
          .put("lastName", "Contact")
          .put("fields", new JsonObject().put("Phone", new JsonArray().add(CUSTOMER)))
          .put("notes", new JsonArray())
          .put("createdAt", at)
          .put("updatedAt", at)
          .put("userId", "USsample");
    }
    if (EventTypes.CALLS.contains(type)) {
      return call(type, at);
    }
    boolean incoming = type.equals("message.received") || type.equals(EventTypes.OPT_OUT);
    String status = switch (type) {
      case "message.received", "opt_out" -> "received";
      case "message.sent" -> "sent";
      case "message.failed" -> "failed";
      case "message.undelivered" -> "undelivered";
      default -> "delivered";
    };
    return new JsonObject()
        .put("id", "AC" + hex(16))
        .put("object", "message")
        .put("from", incoming ? CUSTOMER : BUSINESS)
        .put("to", incoming ? BUSINESS : CUSTOMER)
        .put("direction", incoming ? "incoming" : "outgoing")
        .put("body", type.equals(EventTypes.OPT_OUT) ? "STOP" : "Sample message sent by webhookd send")
        .put("media", new JsonArray())
        .put("status", status)
        .put("createdAt", at)
        .put("userId", "USsample")
        .put("phoneNumberId", "PNsample");
  }

  private static JsonObject call(String type, String at) {
    String callId = "AC" + hex(16);
    return switch (type) {
      case "call.summary.completed" -> new JsonObject()
          .put("object", "callSummary").put("callId", callId).put("status", "completed")
          .put("summary", new JsonArray().add("The customer asked for a callback tomorrow."))
          .put("nextSteps", new JsonArray().add("Call the customer back."));
      case "call.transcript.completed" -> new JsonObject()
          .put("object", "callTranscript").put("callId", callId).put("status", "completed").put("duration", 12)
          .put("createdAt", at)
          .put("dialogue", new JsonArray().add(new JsonObject().put("content", "Hello, this is a sample call.")
              .put("start", 0).put("end", 3).put("identifier", CUSTOMER)));
      default -> {
        String status = switch (type) {
          case "call.ringing" -> "ringing";
          case "call.answered" -> "in-progress";
          case "call.missed" -> "missed";
          case "call.forwarded" -> "forwarded";
          default -> "completed";
        };
        JsonObject call = new JsonObject()
            .put("id", callId)
            .put("object", "call")
            .put("from", CUSTOMER)
            .put("to", BUSINESS)
            .put("direction", "incoming")
            .put("media", new JsonArray())
            .put("status", status)
            .put("createdAt", at)
            .put("answeredAt", type.equals("call.ringing") || type.equals("call.missed") ? null : at)
            .put("completedAt", "completed".equals(status) ? at : null)
            .put("userId", "USsample")
            .put("phoneNumberId", "PNsample");
        if (type.equals("call.recording.completed")) {
          call.put("media", new JsonArray().add(new JsonObject().put("url", "https://example.com/sample-recording.mp3")
              .put("type", "audio/mpeg").put("duration", 12)));
        } else if (type.equals("call.voicemail.completed")) {
          call.put("voicemail", new JsonObject().put("url", "https://example.com/sample-voicemail.mp3")
              .put("type", "audio/mpeg").put("duration", 7));
        }
        yield call;
      }
    };
  }

  private static String hex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }
}
