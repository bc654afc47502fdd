package io.webhookd.ingest;

import io.webhookd.observe.Metrics;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * While a rotation is under way, deliveries signed with an old secret (any but the first) are
 * counted, and logged at most once a minute, so an operator knows when the old one can go.
 */
final class OldSecretNotice {

  private static final Logger LOG = LoggerFactory.getLogger(OldSecretNotice.class);
  private static final long LOG_EVERY_MILLIS = 60_000;
  private static final AtomicLong LAST_LOGGED = new AtomicLong();

  private OldSecretNotice() {
  }

  static void used(Metrics metrics, String scheme) {
    metrics.counter("webhook.old.secret.used", "Webhooks signed with a secret other than the first (current) one",
        "scheme", scheme).increment();
    long now = System.currentTimeMillis();
    long last = LAST_LOGGED.get();
    if (now - last >= LOG_EVERY_MILLIS && LAST_LOGGED.compareAndSet(last, now)) {
      LOG.warn("webhooks are still signed with an old secret ({} scheme): keep it configured until this stops",
          scheme);
    }
  }
}
