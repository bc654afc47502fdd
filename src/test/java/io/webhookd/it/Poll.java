package io.webhookd.it;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * {@link io.webhookd.testing.Poll} at the pace the integration tests poll their server processes:
 * each probe is an HTTP request or a query against another process, so a coarser pace than in-process
 * tests use.
 */
final class Poll {

  private static final Duration PACE = Duration.ofMillis(50);

  private Poll() {
  }

  /**
   * Calls {@code probe} until {@code done} accepts its value, and returns that value; fails with the
   * last value seen once {@code timeout} has passed.
   */
  static <T> T until(String what, Duration timeout, Callable<T> probe, Predicate<T> done) throws Exception {
    return io.webhookd.testing.Poll.until(what, timeout, PACE, probe, done);
  }
}
