package io.webhookd.ingest;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * OpenPhone's own scheme: {@code openphone-signature: hmac;1;<unix ms>;<base64 digest>}, HMAC-SHA256
 * over {@code <timestamp>.<raw body>} keyed with the base64-decoded secret. The header may carry
 * several comma-separated signatures; one valid, fresh signature is enough.
 */
final class OpenPhoneSignature implements SignatureScheme {

  static final String NAME = "openphone";
  static final String HEADER = "openphone-signature";

  private final List<SigningKeys.Key> keys;

  OpenPhoneSignature(SigningKeys keys) {
    this.keys = keys.base64();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean claims(MultiMap headers) {
    return headers.contains(HEADER);
  }

  @Override
  public Verdict verify(MultiMap headers, byte[] body, long nowMillis, long toleranceMillis) {
    boolean parsedAny = false;
    boolean matchedStale = false;
    for (String header : headers.getAll(HEADER)) {
      for (String entry : header.split(",")) {
        String[] parts = entry.trim().split(";", -1);
        if (parts.length != 4 || !"hmac".equals(parts[0]) || !"1".equals(parts[1])) {
          continue;
        }
        Long timestamp = parseLong(parts[2]);
        byte[] digest = decodeBase64(parts[3]);
        if (timestamp == null || digest == null) {
          continue;
        }
        parsedAny = true;
        byte[] prefix = (parts[2] + ".").getBytes(StandardCharsets.US_ASCII);
        for (SigningKeys.Key key : keys) {
          if (Hmac.matches(Hmac.sha256(key.bytes(), prefix, body), digest)) {
            if (SignatureScheme.fresh(timestamp, nowMillis, toleranceMillis)) {
              return Verdict.accepted(NAME, null, key.secretIndex());
            }
            matchedStale = true;
          }
        }
      }
    }
    if (matchedStale) {
      return Verdict.stale(NAME, "signed timestamp outside the window");
    }
    return Verdict.invalid(NAME, parsedAny ? "no signature matches" : "garbled " + HEADER + " header");
  }

  static Long parseLong(String text) {
    if (text.isEmpty() || text.length() > 19) {
      return null;
    }
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > '9') {
        return null;
      }
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return null; // 19 digits beyond Long.MAX_VALUE
    }
  }

  static byte[] decodeBase64(String text) {
    try {
      return Base64.getDecoder().decode(text.trim());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
