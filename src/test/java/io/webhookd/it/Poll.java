package io.webhookd.it;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Waits for something asynchronous by polling it against a deadline; never a fixed sleep. */
final class Poll {

  private static final long INTERVAL_MILLIS = 50;

  private Poll() {
  }

  /**
   * Calls {@code probe} until {@code done} accepts its value, and returns that value; fails with the
   * last value seen once {@code timeout} has passed.
   */
  static <T> T until(String what, Duration timeout, Callable<T> probe, Predicate<T> done) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.call();
      if (done.test(value)) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last seen: " + value);
      }
      Thread.sleep(INTERVAL_MILLIS); // poll interval, not synchronisation: the loop re-checks the condition
    }
  }
}
