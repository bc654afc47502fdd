package io.webhookd.chaos;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The events the driver sends: OpenPhone legacy envelopes with ids unique to the run, spread over
 * many conversations, signed with the OpenPhone scheme ({@code openphone-signature:
 * hmac;1;<unix ms>;<base64 HMAC-SHA256 over "<ts>.<body>">}, keyed with the base64-decoded secret).
 */
final class Events {

  /** What an event is and which CRM effect it must leave. */
  enum Kind {
    /** message.delivered: non-critical, one messages row. */
    DELIVERED,
    /** call.completed: non-critical, one calls row. */
    CALL,
    /** message.received: critical (answered processed or queued), one messages row. */
    RECEIVED,
    /** message.delivered without a message id: the handler fails permanently, one dead letter. */
    POISON
  }

  /** One event: its id, the provider id of its effect (null for POISON), its body. */
  record Event(String eventId, Kind kind, String providerId, byte[] body) {
  }

  private static final int CONVERSATIONS = 2000;

  private final String run;
  private final AtomicLong sequence = new AtomicLong();
  private final ThreadLocal<Mac> mac;

  Events(String secretBase64) {
    byte[] key = Base64.getDecoder().decode(secretBase64);
    this.run = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 8);
    this.mac = ThreadLocal.withInitial(() -> {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(key, "HmacSHA256"));
        return m;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** A fresh random secret, base64, as OpenPhone's are. */
  static String newSecret() {
    byte[] key = new byte[32];
    ThreadLocalRandom.current().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  Event next(Kind kind) {
    long n = sequence.incrementAndGet();
    String suffix = run + String.format("%010d", n);
    String eventId = "EVchaos" + suffix;
    String resourceId = (kind == Kind.CALL ? "ACcall" : "ACmsg") + suffix;
    long conversation = ThreadLocalRandom.current().nextLong(CONVERSATIONS);
    String conversationId = "CNchaos" + run + conversation;
    // Numbers in the fictional 555-01xx range, one external number per conversation.
    String external = "+1415555" + String.format("%04d", 100 + conversation % 100);
    String own = "+18885550101";
    String now = Instant.now().toString();
    String body = switch (kind) {
      case DELIVERED, POISON -> "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"apiVersion\":\"v2\",\"createdAt\":\""
          + now + "\",\"type\":\"message.delivered\",\"data\":{\"object\":{"
          + (kind == Kind.POISON ? "" : "\"id\":\"" + resourceId + "\",")
          + "\"object\":\"message\",\"from\":\"" + own + "\",\"to\":\"" + external
          + "\",\"direction\":\"outgoing\",\"body\":\"chaos delivered " + n + "\",\"media\":[],\"status\":\"delivered\","
          + "\"createdAt\":\"" + now + "\",\"userId\":\"USu5AsEHuQ\",\"phoneNumberId\":\"PNtoDbDhuz\","
          + "\"conversationId\":\"" + conversationId + "\"}}}";
      case RECEIVED -> "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"apiVersion\":\"v2\",\"createdAt\":\""
          + now + "\",\"type\":\"message.received\",\"data\":{\"object\":{\"id\":\"" + resourceId
          + "\",\"object\":\"message\",\"from\":\"" + external + "\",\"to\":\"" + own
          + "\",\"direction\":\"incoming\",\"body\":\"chaos hello " + n + "\",\"media\":[],\"status\":\"received\","
          + "\"createdAt\":\"" + now + "\",\"userId\":\"USu5AsEHuQ\",\"phoneNumberId\":\"PNtoDbDhuz\","
          + "\"conversationId\":\"" + conversationId + "\"}}}";
      case CALL -> "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"apiVersion\":\"v3\",\"createdAt\":\""
          + now + "\",\"type\":\"call.completed\",\"data\":{\"object\":{\"id\":\"" + resourceId
          + "\",\"object\":\"call\",\"from\":\"" + external + "\",\"to\":\"" + own
          + "\",\"direction\":\"incoming\",\"media\":[],\"status\":\"completed\",\"createdAt\":\"" + now
          + "\",\"answeredAt\":null,\"completedAt\":\"" + now + "\",\"userId\":\"USu5AsEHuQ\","
          + "\"phoneNumberId\":\"PNtoDbDhuz\",\"conversationId\":\"" + conversationId + "\"}}}";
    };
    return new Event(eventId, kind, kind == Kind.POISON ? null : resourceId, body.getBytes(StandardCharsets.UTF_8));
  }

  /** The {@code openphone-signature} header for {@code body}, signed now. */
  String sign(byte[] body) {
    String timestamp = Long.toString(System.currentTimeMillis());
    Mac m = mac.get();
    m.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
    m.update(body);
    return "hmac;1;" + timestamp + ";" + Base64.getEncoder().encodeToString(m.doFinal());
  }
}
