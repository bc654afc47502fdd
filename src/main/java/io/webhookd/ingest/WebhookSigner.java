package io.webhookd.ingest;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Signs a body the way a sender does, in each scheme {@link SignatureVerifier} accepts, so that an
 * operator can produce test deliveries ({@code webhookd sign}, {@code webhookd send}). The keys come
 * from a secret exactly as the verifier derives them ({@link SigningKeys}) and the HMAC is
 * {@link Hmac}'s, so what this signs the verifier accepts (within its timestamp window).
 */
public final class WebhookSigner {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** The schemes, by the names an operator types. */
  public enum Scheme {
    /** {@code openphone-signature: hmac;1;<unix ms>;<base64>}; the secret is base64. */
    OPENPHONE(OpenPhoneSignature.NAME),
    /** Standard Webhooks ({@code webhook-id}, {@code webhook-timestamp}, {@code webhook-signature}). */
    STANDARD(StandardWebhooksSignature.NAME),
    /** The older internal design: {@code x-openphone-signature} (hex), {@code x-openphone-timestamp}. */
    SEED(SeedSignature.NAME);

    private final String verifierName;

    Scheme(String verifierName) {
      this.verifierName = verifierName;
    }

    /** The name the verifier gives the scheme, stored with each event. */
    public String verifierName() {
      return verifierName;
    }

    /** Whether the scheme's timestamp is in milliseconds (else seconds). */
    public boolean millisecondTimestamps() {
      return this == OPENPHONE;
    }

    /** The name an operator types: {@code openphone}, {@code standard}, {@code seed}. */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private WebhookSigner() {
  }

  /**
   * The signature headers for {@code body}, in the order a sender writes them.
   *
   * @param secret    as configured in {@code openphone.secrets}: base64 for {@code openphone},
   *                  {@code whsec_...} or base64 for {@code standard}, any text for {@code seed}
   * @param webhookId the Standard Webhooks {@code webhook-id} (ignored by the other schemes); a
   *                  fresh one when null
   * @param at        the signed timestamp, truncated to the scheme's unit
   * @throws IllegalArgumentException when the scheme cannot use the secret
   */
  public static Map<String, String> sign(Scheme scheme, String secret, byte[] body, String webhookId, Instant at) {
    if (secret == null || secret.isEmpty()) {
      throw new IllegalArgumentException("the secret is empty");
    }
    SigningKeys keys = SigningKeys.from(List.of(secret));
    Map<String, String> headers = new LinkedHashMap<>();
    switch (scheme) {
      case OPENPHONE -> {
        String timestamp = Long.toString(at.toEpochMilli());
        byte[] digest = Hmac.sha256(key(keys.base64Keys(), scheme, "a base64 secret"), ascii(timestamp + "."), body);
        headers.put(OpenPhoneSignature.HEADER, "hmac;1;" + timestamp + ";" + Base64.getEncoder().encodeToString(digest));
      }
      case STANDARD -> {
        String id = webhookId == null ? newWebhookId() : webhookId;
        String timestamp = Long.toString(at.getEpochSecond());
        byte[] digest = Hmac.sha256(key(keys.standardKeys(), scheme, "a whsec_ or base64 secret"),
            (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8), body);
        headers.put(StandardWebhooksSignature.ID_HEADER, id);
        headers.put(StandardWebhooksSignature.TIMESTAMP_HEADER, timestamp);
        headers.put(StandardWebhooksSignature.SIGNATURE_HEADER, "v1," + Base64.getEncoder().encodeToString(digest));
      }
      case SEED -> {
        String timestamp = Long.toString(at.getEpochSecond());
        byte[] digest = Hmac.sha256(key(keys.utf8Keys(), scheme, "a non-empty secret"), ascii(timestamp + "."), body);
        headers.put(SeedSignature.SIGNATURE_HEADER, HexFormat.of().formatHex(digest));
        headers.put(SeedSignature.TIMESTAMP_HEADER, timestamp);
      }
      default -> throw new IllegalStateException("unknown scheme " + scheme);
    }
    return headers;
  }

  /** A fresh Standard Webhooks message id: {@code msg_} and 24 random base64url characters. */
  public static String newWebhookId() {
    byte[] random = new byte[18];
    RANDOM.nextBytes(random);
    return "msg_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  private static byte[] key(List<byte[]> keys, Scheme scheme, String needed) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("the " + scheme + " scheme needs " + needed);
    }
    return keys.get(0);
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
