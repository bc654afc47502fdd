package io.webhookd.ingest;

import io.vertx.core.MultiMap;

/**
 * One way a sender signs webhooks. A request is checked by the first scheme whose headers it
 * carries; it never falls back to another scheme.
 */
interface SignatureScheme {

  /** The name stored with each event and used in logs and metrics. */
  String name();

  /** Whether the request carries this scheme's signature header. */
  boolean claims(MultiMap headers);

  /**
   * @param nowMillis the receiver's clock
   * @param toleranceMillis how far the signed timestamp may be from {@code nowMillis}, either way
   */
  Verdict verify(MultiMap headers, byte[] body, long nowMillis, long toleranceMillis);

  /** Whether a signed timestamp is within the window, in the past or in the future. */
  static boolean fresh(long timestampMillis, long nowMillis, long toleranceMillis) {
    return Math.abs(nowMillis - timestampMillis) <= toleranceMillis;
  }
}
