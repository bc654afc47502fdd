package io.webhookd.bench;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Distinct OpenPhone {@code message.received} (or {@code message.delivered}) events shaped like
 * the legacy-v2 fixture (about 660 bytes), each with a unique, random-looking event id
 * ({@code EV} + 32 hex digits), signed with the legacy scheme:
 * {@code openphone-signature: hmac;1;<unix ms>;<base64 HMAC-SHA256 over "<ts>.<body>">}, keyed
 * with the base64-decoded secret.
 *
 * <p>Event {@code i}'s body is rebuilt from a template at send time (a few array copies), so only
 * its signature header is kept in memory. Signatures for the first {@code presigned} events are
 * computed before the timed phase, on every core, all with one timestamp; later events (a closed-loop
 * run faster than planned) are signed when sent and counted by the caller.
 */
final class SyntheticEvents {

  /**
   * The template, split where the per-event parts go: event id twice, conversation id once. The
   * {@code %1$s} slots take the creation time, {@code %2$s} the type, {@code %3$s} the direction
   * and {@code %4$s} the status.
   */
  private static final String[] TEMPLATE = {
      "{\"id\":\"EV", "\",\"object\":\"event\",\"apiVersion\":\"v2\",\"createdAt\":\"%1$s\","
          + "\"type\":\"%2$s\",\"data\":{\"object\":{\"id\":\"AC",
      "\",\"object\":\"message\",\"from\":\"+18005550100\",\"to\":\"+18885550101\","
          + "\"direction\":\"%3$s\",\"body\":\"Load test message from webhookd's benchmark, "
          + "see docs/BENCHMARKS.md\",\"media\":[{\"url\":\"https://storage.googleapis.com/opstatics-dev/"
          + "5c908000ada94d9fb206649ecb8cc928\",\"type\":\"image/jpeg\"}],\"status\":\"%4$s\","
          + "\"createdAt\":\"%1$s\",\"userId\":\"USu5AsEHuQ\",\"phoneNumberId\":\"PNtoDbDhuz\","
          + "\"conversationId\":\"CN",
      "\"}}}"};

  /** The message events the generator can send; both have the legacy-v2 fixture's shape. */
  enum Type {
    /** An inbound text, {@code legacy-v2-message.received.json}. */
    RECEIVED("message.received", "incoming", "received"),
    /** An outbound text delivered, {@code legacy-v2-message.delivered.json}. */
    DELIVERED("message.delivered", "outgoing", "delivered");

    final String type;
    final String direction;
    final String status;

    Type(String type, String direction, String status) {
      this.type = type;
      this.direction = direction;
      this.status = status;
    }

    static Type of(String type) {
      for (Type t : values()) {
        if (t.type.equals(type)) {
          return t;
        }
      }
      throw new IllegalArgumentException("unknown event type " + type);
    }
  }

  private static final int HEX_ID = 32;
  private static final int CONVERSATIONS = 1000;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final byte[] part0;
  private final byte[] part1;
  private final byte[] part2;
  private final byte[] part3;
  private final long runId;
  private final byte[] key;
  private final int bodyLength;
  private final long presignTimestamp;
  private final String[] presigned;
  private final ThreadLocal<Mac> mac;

  /**
   * @param secret    the OpenPhone signing secret as configured on the server (base64)
   * @param type      the event type every event has
   * @param presigned how many events to sign now; 0 signs every event when it is sent
   */
  SyntheticEvents(String secret, Type type, int presigned) {
    try {
      this.key = Base64.getDecoder().decode(secret.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the secret is not base64, as OpenPhone secrets are");
    }
    if (key.length == 0) {
      throw new IllegalArgumentException("the secret is empty");
    }
    String createdAt = Instant.now().toString();
    this.part0 = ascii(TEMPLATE[0]);
    this.part1 = ascii(TEMPLATE[1].formatted(createdAt, type.type));
    this.part2 = ascii(TEMPLATE[2].formatted(createdAt, type.type, type.direction, type.status));
    this.part3 = ascii(TEMPLATE[3]);
    // Ids unique across runs too, so a rerun against a kept data dir is not all duplicates.
    this.runId = ThreadLocalRandom.current().nextLong();
    this.bodyLength = part0.length + HEX_ID + part1.length + HEX_ID + part2.length + HEX_ID + part3.length;
    this.mac = ThreadLocal.withInitial(this::newMac);
    this.presignTimestamp = System.currentTimeMillis();
    this.presigned = new String[presigned];
    IntStream.range(0, presigned).parallel().forEach(i -> this.presigned[i] = sign(i, presignTimestamp));
  }

  int bodyLength() {
    return bodyLength;
  }

  int presignedCount() {
    return presigned.length;
  }

  /** Wall-clock time the presigned signatures carry. */
  long presignTimestamp() {
    return presignTimestamp;
  }

  boolean isPresigned(long index) {
    return index < presigned.length;
  }

  /** The signature header of event {@code index}: presigned, or signed now. */
  String signature(long index) {
    return index < presigned.length ? presigned[(int) index] : sign(index, System.currentTimeMillis());
  }

  /** The body of event {@code index}; the same bytes every time. */
  byte[] body(long index) {
    byte[] body = new byte[bodyLength];
    int at = 0;
    at = put(body, at, part0);
    at = putHex(body, at, scramble(index), runId);
    at = put(body, at, part1);
    at = putHex(body, at, scramble(index), runId);
    at = put(body, at, part2);
    at = putHex(body, at, ~runId, index % CONVERSATIONS);
    put(body, at, part3);
    return body;
  }

  /** The event id the server will store for event {@code index}. */
  String eventId(long index) {
    byte[] hex = new byte[HEX_ID];
    putHex(hex, 0, scramble(index), runId);
    return "EV" + new String(hex, StandardCharsets.US_ASCII);
  }

  /**
   * A bijection (SplitMix64's finalizer) of the event number: ids are unique like a counter but
   * random-looking like OpenPhone's, so the store's unique index sees inserts all over its key
   * space, as in production, rather than appends at its end.
   */
  private long scramble(long index) {
    long z = index ^ runId;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private String sign(long index, long timestampMillis) {
    String timestamp = Long.toString(timestampMillis);
    Mac m = mac.get();
    m.update(ascii(timestamp + "."));
    m.update(body(index));
    return "hmac;1;" + timestamp + ";" + Base64.getEncoder().encodeToString(m.doFinal());
  }

  private Mac newMac() {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private static int put(byte[] into, int at, byte[] part) {
    System.arraycopy(part, 0, into, at, part.length);
    return at + part.length;
  }

  private static int putHex(byte[] into, int at, long high, long low) {
    for (int shift = 60; shift >= 0; shift -= 4) {
      into[at++] = HEX[(int) (high >>> shift) & 0xf];
    }
    for (int shift = 60; shift >= 0; shift -= 4) {
      into[at++] = HEX[(int) (low >>> shift) & 0xf];
    }
    return at;
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
