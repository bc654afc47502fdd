package io.webhookd.process;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When a failed event is tried again: after retry {@code n} (0 for the first) fails, the delay is
 * {@code min(base * 2^n, cap)} plus a uniform jitter of 0 to 10 % of it, so that many events
 * failing together do not all come back at the same instant. After {@code maxRetries} retries the
 * event goes to the dead-letter queue.
 */
public record RetryPolicy(Duration base, Duration cap, int maxRetries) {

  /** Whether an event whose {@code attempt}-th attempt (from 1) failed may be tried again. */
  public boolean mayRetry(int attempt) {
    return attempt <= maxRetries;
  }

  /** The delay before the attempt that follows the failed {@code attempt} (from 1). */
  public Duration delayAfter(int attempt) {
    int retry = Math.max(0, attempt - 1);
    long baseMillis = base.toMillis();
    long capMillis = cap.toMillis();
    long exponential = retry >= 62 || baseMillis > (capMillis >> Math.min(retry, 62))
        ? capMillis : Math.min(capMillis, baseMillis << retry);
    long jitter = (long) (exponential * 0.10 * ThreadLocalRandom.current().nextDouble());
    return Duration.ofMillis(exponential + jitter);
  }
}
