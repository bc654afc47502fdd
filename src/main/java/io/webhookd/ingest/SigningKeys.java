package io.webhookd.ingest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The HMAC keys each scheme derives from the configured secrets. A secret that a scheme cannot
 * use (not base64, say) is simply no key for that scheme.
 *
 * @param base64Keys   OpenPhone legacy: the secret base64-decoded
 * @param standardKeys Standard Webhooks: {@code whsec_} stripped, then base64-decoded
 * @param utf8Keys     the older internal design: the secret's UTF-8 bytes
 */
public record SigningKeys(List<byte[]> base64Keys, List<byte[]> standardKeys, List<byte[]> utf8Keys) {

  private static final String STANDARD_PREFIX = "whsec_";

  public static SigningKeys from(List<String> secrets) {
    List<byte[]> base64 = new ArrayList<>();
    List<byte[]> standard = new ArrayList<>();
    List<byte[]> utf8 = new ArrayList<>();
    for (String secret : secrets) {
      utf8.add(secret.getBytes(StandardCharsets.UTF_8));
      byte[] decoded = decode(secret);
      if (decoded != null) {
        base64.add(decoded);
      }
      byte[] standardKey = secret.startsWith(STANDARD_PREFIX)
          ? decode(secret.substring(STANDARD_PREFIX.length()))
          : decoded;
      if (standardKey != null) {
        standard.add(standardKey);
      }
    }
    return new SigningKeys(List.copyOf(base64), List.copyOf(standard), List.copyOf(utf8));
  }

  public boolean isEmpty() {
    return utf8Keys.isEmpty();
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
