package io.webhookd.ingest;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Quo's 2026-03-30 webhooks, which follow the Standard Webhooks specification: {@code webhook-id},
 * {@code webhook-timestamp} (unix seconds) and {@code webhook-signature} (space-separated
 * {@code v1,<base64>} entries) over {@code <id>.<timestamp>.<raw body>}. Entries of other versions
 * are skipped. The {@code webhook-id} is stable across retries and becomes the event id.
 */
final class StandardWebhooksSignature implements SignatureScheme {

  static final String NAME = "standard-webhooks";
  static final String ID_HEADER = "webhook-id";
  static final String TIMESTAMP_HEADER = "webhook-timestamp";
  static final String SIGNATURE_HEADER = "webhook-signature";
  private static final int MAX_ID_LENGTH = 255;

  private final List<SigningKeys.Key> keys;

  StandardWebhooksSignature(SigningKeys keys) {
    this.keys = keys.standard();
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
    String id = single(headers, ID_HEADER);
    String timestampText = single(headers, TIMESTAMP_HEADER);
    if (id == null || timestampText == null) {
      return Verdict.invalid(NAME, "missing or repeated " + ID_HEADER + " or " + TIMESTAMP_HEADER);
    }
    if (!validId(id)) {
      return Verdict.invalid(NAME, "malformed " + ID_HEADER);
    }
    Long seconds = OpenPhoneSignature.parseLong(timestampText);
    if (seconds == null || seconds > Long.MAX_VALUE / 1000) {
      return Verdict.invalid(NAME, "malformed " + TIMESTAMP_HEADER);
    }
    byte[] prefix = (id + "." + timestampText + ".").getBytes(StandardCharsets.UTF_8);
    int matched = -1;
    for (String header : headers.getAll(SIGNATURE_HEADER)) {
      for (String entry : header.split(" ")) {
        int comma = entry.indexOf(',');
        if (comma < 0 || !"v1".equals(entry.substring(0, comma))) {
          continue;
        }
        byte[] presented = OpenPhoneSignature.decodeBase64(entry.substring(comma + 1));
        for (SigningKeys.Key key : keys) {
          if (matched < 0 && Hmac.matches(Hmac.sha256(key.bytes(), prefix, body), presented)) {
            matched = key.secretIndex();
          }
        }
      }
    }
    if (matched < 0) {
      return Verdict.invalid(NAME, "no signature matches");
    }
    if (!SignatureScheme.fresh(seconds * 1000, nowMillis, toleranceMillis)) {
      return Verdict.stale(NAME, "signed timestamp outside the window");
    }
    return Verdict.accepted(NAME, id, matched);
  }

  private static String single(MultiMap headers, String name) {
    List<String> values = headers.getAll(name);
    return values.size() == 1 ? values.get(0).trim() : null;
  }

  /** Printable ASCII without spaces, bounded, since it becomes a stored key. */
  private static boolean validId(String id) {
    if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c <= ' ' || c > '~') {
        return false;
      }
    }
    return true;
  }
}
