package io.webhookd.ingest;

import io.vertx.core.MultiMap;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Authenticates a webhook over its raw bytes. The scheme is chosen by the headers present (Standard
 * Webhooks, then OpenPhone's own, then the older internal design) and a request is judged by that
 * scheme alone. With no secret configured, nothing is ever accepted. The secrets can be replaced
 * while the service runs (rotation); a request already being checked finishes with the old set.
 */
public final class SignatureVerifier {

  /** The schemes built from one set of secrets; replaced as a whole. */
  private record Schemes(List<SignatureScheme> schemes, boolean hasKeys) {
    static Schemes of(List<String> secrets) {
      SigningKeys keys = SigningKeys.from(secrets);
      return new Schemes(List.of(new StandardWebhooksSignature(keys), new OpenPhoneSignature(keys),
          new SeedSignature(keys)), !keys.isEmpty());
    }
  }

  private final long toleranceMillis;
  private final Clock clock;
  private volatile Schemes current;

  public SignatureVerifier(List<String> secrets, Duration tolerance, Clock clock) {
    this.current = Schemes.of(secrets);
    this.toleranceMillis = tolerance.toMillis();
    this.clock = clock;
  }

  /** Replaces the secrets; the first one is the current secret, the others are old ones. */
  public void updateSecrets(List<String> secrets) {
    current = Schemes.of(secrets);
  }

  public Verdict verify(MultiMap headers, byte[] body) {
    Schemes now = current;
    for (SignatureScheme scheme : now.schemes()) {
      if (scheme.claims(headers)) {
        if (!now.hasKeys()) {
          return Verdict.invalid(scheme.name(), "no signing secret is configured");
        }
        return scheme.verify(headers, body, clock.millis(), toleranceMillis);
      }
    }
    return Verdict.invalid(null, "no signature header");
  }
}
