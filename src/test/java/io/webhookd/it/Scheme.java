package io.webhookd.it;

import io.vertx.core.MultiMap;
import io.webhookd.testing.TestSigner;
import java.time.Instant;

/** The three signature schemes the service accepts, signing through {@link TestSigner}. */
enum Scheme {
  /** {@code openphone-signature: hmac;1;<ms>;<base64>}. */
  OPENPHONE("openphone"),
  /** {@code webhook-id}, {@code webhook-timestamp}, {@code webhook-signature}; the id is the event id. */
  STANDARD_WEBHOOKS("standard-webhooks"),
  /** {@code X-OpenPhone-Signature} (hex) and {@code X-OpenPhone-Timestamp}. */
  SEED("seed");

  /** The name the service stores in {@code inbox_events.signature_scheme}. */
  final String storedName;

  Scheme(String storedName) {
    this.storedName = storedName;
  }

  /**
   * Signature headers for {@code body} as the sender would make them at {@code at}.
   *
   * @param secret    a plain base64 secret works for all three schemes; {@code whsec_...} only
   *                  for Standard Webhooks and seed
   * @param webhookId the {@code webhook-id} (Standard Webhooks only, ignored otherwise)
   */
  MultiMap sign(String secret, byte[] body, Instant at, String webhookId) {
    return switch (this) {
      case OPENPHONE -> TestSigner.openPhone(secret, body, at.toEpochMilli());
      case STANDARD_WEBHOOKS -> TestSigner.standardWebhooks(secret, webhookId, at.getEpochSecond(), body);
      case SEED -> TestSigner.seed(secret, body, at.getEpochSecond());
    };
  }

  /** Signed now. */
  MultiMap sign(String secret, byte[] body, String webhookId) {
    return sign(secret, body, Instant.now(), webhookId);
  }
}
