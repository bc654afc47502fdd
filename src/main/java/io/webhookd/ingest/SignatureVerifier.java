package io.webhookd.ingest;

import io.vertx.core.MultiMap;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Authenticates a webhook over its raw bytes. The scheme is chosen by the headers present (Standard
 * Webhooks, then OpenPhone's own, then the older internal design) and a request is judged by that
 * scheme alone. With no secret configured, nothing is ever accepted.
 */
public final class SignatureVerifier {

  private final List<SignatureScheme> schemes;
  private final boolean hasKeys;
  private final long toleranceMillis;
  private final Clock clock;

  public SignatureVerifier(List<String> secrets, Duration tolerance, Clock clock) {
    SigningKeys keys = SigningKeys.from(secrets);
    this.schemes = List.of(
        new StandardWebhooksSignature(keys), new OpenPhoneSignature(keys), new SeedSignature(keys));
    this.hasKeys = !keys.isEmpty();
    this.toleranceMillis = tolerance.toMillis();
    this.clock = clock;
  }

  public Verdict verify(MultiMap headers, byte[] body) {
    for (SignatureScheme scheme : schemes) {
      if (scheme.claims(headers)) {
        if (!hasKeys) {
          return Verdict.invalid(scheme.name(), "no signing secret is configured");
        }
        return scheme.verify(headers, body, clock.millis(), toleranceMillis);
      }
    }
    return Verdict.invalid(null, "no signature header");
  }
}
