package io.webhookd.ingest;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/**
 * The older internal design's scheme, still used by existing clients:
 * {@code X-OpenPhone-Signature} is the hex HMAC-SHA256 over {@code <timestamp>.<raw body>} keyed
 * with the secret's UTF-8 bytes, and {@code X-OpenPhone-Timestamp} is unix seconds.
 */
final class SeedSignature implements SignatureScheme {

  static final String NAME = "seed";
  static final String SIGNATURE_HEADER = "x-openphone-signature";
  static final String TIMESTAMP_HEADER = "x-openphone-timestamp";

  private final List<SigningKeys.Key> keys;

  SeedSignature(SigningKeys keys) {
    this.keys = keys.utf8();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean claims(MultiMap headers) {
    return headers.contains(SIGNATURE_HEADER);
  }

  @Override
  public Verdict verify(MultiMap headers, byte[] body, long nowMillis, long toleranceMillis) {
    List<String> timestamps = headers.getAll(TIMESTAMP_HEADER);
    List<String> signatures = headers.getAll(SIGNATURE_HEADER);
    if (timestamps.size() != 1 || signatures.size() != 1) {
      return Verdict.invalid(NAME, "missing or repeated " + TIMESTAMP_HEADER + " or " + SIGNATURE_HEADER);
    }
    String timestampText = timestamps.get(0).trim();
    Long seconds = OpenPhoneSignature.parseLong(timestampText);
    byte[] presented = parseHex(signatures.get(0).trim());
    if (seconds == null || seconds > Long.MAX_VALUE / 1000 || presented == null) {
      return Verdict.invalid(NAME, "garbled " + TIMESTAMP_HEADER + " or " + SIGNATURE_HEADER);
    }
    byte[] prefix = (timestampText + ".").getBytes(StandardCharsets.US_ASCII);
    int matched = -1;
    for (SigningKeys.Key key : keys) {
      if (matched < 0 && Hmac.matches(Hmac.sha256(key.bytes(), prefix, body), presented)) {
        matched = key.secretIndex();
      }
    }
    if (matched < 0) {
      return Verdict.invalid(NAME, "no signature matches");
    }
    if (!SignatureScheme.fresh(seconds * 1000, nowMillis, toleranceMillis)) {
      return Verdict.stale(NAME, "signed timestamp outside the window");
    }
    return Verdict.accepted(NAME, null, matched);
  }

  private static byte[] parseHex(String text) {
    try {
      return HexFormat.of().parseHex(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
