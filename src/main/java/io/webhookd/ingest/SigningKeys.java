package io.webhookd.ingest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The HMAC keys each scheme derives from the configured secrets. A secret that a scheme cannot
 * use (not base64, say) is simply no key for that scheme. Each key remembers which secret it came
 * from: the first secret is the current one, the others are old ones still accepted while a
 * rotation completes.
 *
 * @param base64   OpenPhone legacy: the secret base64-decoded
 * @param standard Standard Webhooks: {@code whsec_} stripped, then base64-decoded
 * @param utf8     the older internal design: the secret's UTF-8 bytes
 */
public record SigningKeys(List<Key> base64, List<Key> standard, List<Key> utf8) {

  /** @param secretIndex the position of its secret in the configured list */
  public record Key(byte[] bytes, int secretIndex) {
  }

  private static final String STANDARD_PREFIX = "whsec_";

  public static SigningKeys from(List<String> secrets) {
    List<Key> base64 = new ArrayList<>();
    List<Key> standard = new ArrayList<>();
    List<Key> utf8 = new ArrayList<>();
    for (int i = 0; i < secrets.size(); i++) {
      String secret = secrets.get(i);
      utf8.add(new Key(secret.getBytes(StandardCharsets.UTF_8), i));
      byte[] decoded = decode(secret);
      if (decoded != null) {
        base64.add(new Key(decoded, i));
      }
      byte[] standardKey = secret.startsWith(STANDARD_PREFIX)
          ? decode(secret.substring(STANDARD_PREFIX.length()))
          : decoded;
      if (standardKey != null) {
        standard.add(new Key(standardKey, i));
      }
    }
    return new SigningKeys(List.copyOf(base64), List.copyOf(standard), List.copyOf(utf8));
  }

  public boolean isEmpty() {
    return utf8.isEmpty();
  }

  public List<byte[]> base64Keys() {
    return base64.stream().map(Key::bytes).toList();
  }

  public List<byte[]> standardKeys() {
    return standard.stream().map(Key::bytes).toList();
  }

  public List<byte[]> utf8Keys() {
    return utf8.stream().map(Key::bytes).toList();
  }

  private static byte[] decode(String text) {
    try {
      byte[] key = Base64.getDecoder().decode(text);
      return key.length == 0 ? null : key;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
