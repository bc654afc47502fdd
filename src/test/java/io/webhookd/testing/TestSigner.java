package io.webhookd.testing;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Builds signature headers the way each sender scheme does, independently of the main code, so
 * tests check the verifier against the documented algorithms rather than against itself.
 *
 * <ul>
 *   <li>OpenPhone legacy: {@code openphone-signature: hmac;1;<unix ms>;<base64>}, key = the secret
 *       base64-decoded, over {@code <ms>.<body>}.</li>
 *   <li>Standard Webhooks: {@code webhook-id}, {@code webhook-timestamp} (unix seconds),
 *       {@code webhook-signature: v1,<base64>}, key = the {@code whsec_} secret without its prefix,
 *       base64-decoded, over {@code <id>.<seconds>.<body>}.</li>
 *   <li>Seed: {@code X-OpenPhone-Signature} lower-case hex, key = the secret's UTF-8 bytes, over
 *       {@code <seconds>.<body>}, with {@code X-OpenPhone-Timestamp} in unix seconds.</li>
 * </ul>
 *
 * Secrets are generated per test with {@link #newOpenPhoneSecret()}, {@link #newStandardSecret()}
 * and {@link #newSeedSecret()}; none is ever committed.
 */
public final class TestSigner {

  public static final String OPENPHONE_HEADER = "openphone-signature";
  public static final String WEBHOOK_ID = "webhook-id";
  public static final String WEBHOOK_TIMESTAMP = "webhook-timestamp";
  public static final String WEBHOOK_SIGNATURE = "webhook-signature";
  public static final String SEED_SIGNATURE = "X-OpenPhone-Signature";
  public static final String SEED_TIMESTAMP = "X-OpenPhone-Timestamp";

  private static final SecureRandom RANDOM = new SecureRandom();

  private TestSigner() {
  }

  /** A fresh OpenPhone legacy secret: 32 random bytes, base64. */
  public static String newOpenPhoneSecret() {
    return Base64.getEncoder().encodeToString(randomBytes(32));
  }

  /** A fresh Standard Webhooks secret: {@code whsec_} + 32 random bytes in base64. */
  public static String newStandardSecret() {
    return "whsec_" + Base64.getEncoder().encodeToString(randomBytes(32));
  }

  /** A fresh secret for the seed scheme, used as UTF-8 text (deliberately not valid base64). */
  public static String newSeedSecret() {
    return "seed-" + HexFormat.of().formatHex(randomBytes(16));
  }

  // ---- OpenPhone legacy ------------------------------------------------------------------------

  /** The base64 digest alone. */
  public static String openPhoneDigest(String base64Secret, byte[] body, long timestampMillis) {
    byte[] key = Base64.getDecoder().decode(base64Secret);
    return Base64.getEncoder().encodeToString(hmac(key, timestampMillis + ".", body));
  }

  /** One header entry: {@code hmac;1;<ms>;<base64>}. */
  public static String openPhoneSignature(String base64Secret, byte[] body, long timestampMillis) {
    return "hmac;1;" + timestampMillis + ";" + openPhoneDigest(base64Secret, body, timestampMillis);
  }

  public static MultiMap openPhone(String base64Secret, byte[] body, long timestampMillis) {
    return headers().add(OPENPHONE_HEADER, openPhoneSignature(base64Secret, body, timestampMillis));
  }

  // ---- Standard Webhooks -----------------------------------------------------------------------

  /** One signature entry: {@code v1,<base64>}. */
  public static String standardSignature(String whsecSecret, String webhookId, long timestampSeconds, byte[] body) {
    String encoded = whsecSecret.startsWith("whsec_") ? whsecSecret.substring("whsec_".length()) : whsecSecret;
    byte[] key = Base64.getDecoder().decode(encoded);
    return "v1," + Base64.getEncoder().encodeToString(
        hmac(key, webhookId + "." + timestampSeconds + ".", body));
  }

  public static MultiMap standardWebhooks(String whsecSecret, String webhookId, long timestampSeconds, byte[] body) {
    return headers()
        .add(WEBHOOK_ID, webhookId)
        .add(WEBHOOK_TIMESTAMP, Long.toString(timestampSeconds))
        .add(WEBHOOK_SIGNATURE, standardSignature(whsecSecret, webhookId, timestampSeconds, body));
  }

  // ---- Seed (older internal design) ------------------------------------------------------------

  /** Lower-case hex digest. */
  public static String seedSignature(String secret, byte[] body, long timestampSeconds) {
    return HexFormat.of().formatHex(
        hmac(secret.getBytes(StandardCharsets.UTF_8), timestampSeconds + ".", body));
  }

  public static MultiMap seed(String secret, byte[] body, long timestampSeconds) {
    return headers()
        .add(SEED_SIGNATURE, seedSignature(secret, body, timestampSeconds))
        .add(SEED_TIMESTAMP, Long.toString(timestampSeconds));
  }

  /** An empty case-insensitive header map, as Vert.x gives a request's headers. */
  public static MultiMap headers() {
    return MultiMap.caseInsensitiveMultiMap();
  }

  /** HMAC-SHA256 of {@code prefix} then {@code body}: what every scheme signs. */
  public static byte[] hmac(byte[] key, String prefix, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(prefix.getBytes(StandardCharsets.UTF_8));
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
