package io.webhookd.testing;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waits for something asynchronous by polling it against a deadline; never a fixed sleep. */
public final class Poll {

  private static final Duration PACE = Duration.ofMillis(20);

  private Poll() {
  }

  /**
   * Calls {@code probe} until {@code done} accepts its value, and returns that value; fails with the
   * last value seen once {@code timeout} has passed.
   */
  public static <T> T until(String what, Duration timeout, Callable<T> probe, Predicate<T> done) {
    return until(what, timeout, PACE, probe, done);
  }

  /**
   * As {@link #until(String, Duration, Callable, Predicate)}, probing every {@code pace}; a probe's
   * unchecked exception ends the wait as it is, a checked one wrapped.
   */
  public static <T> T until(String what, Duration timeout, Duration pace, Callable<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value;
      try {
        value = probe.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("probing " + what + " failed", e);
      }
      if (done.test(value)) {
        return value;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last seen: " + value);
      }
      try {
        Thread.sleep(pace.toMillis()); // the poll's pace: the loop re-checks the condition
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      }
    }
  }

  /**
   * The same for an asynchronous probe: calls {@code call} on {@code context} until its result
   * satisfies {@code done}, paced by a Vert.x timer (so no thread blocks meanwhile); the outcome fails
   * with the last result or failure seen once {@code within} has passed.
   */
  public static <T> CompletableFuture<T> eventually(Vertx vertx, Context context, Supplier<Future<T>> call,
      Predicate<T> done, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    CompletableFuture<T> outcome = new CompletableFuture<>();
    context.runOnContext(v -> poll(vertx, call, done, deadline, outcome));
    return outcome;
  }

  private static <T> void poll(Vertx vertx, Supplier<Future<T>> call, Predicate<T> done, long deadline,
      CompletableFuture<T> outcome) {
    call.get().onComplete(ar -> {
      if (ar.succeeded() && done.test(ar.result())) {
        outcome.complete(ar.result());
      } else if (System.nanoTime() - deadline > 0) {
        outcome.completeExceptionally(new AssertionError("condition not met in time; last outcome: "
            + (ar.succeeded() ? ar.result() : ar.cause())));
      } else {
        vertx.setTimer(PACE.toMillis(), id -> poll(vertx, call, done, deadline, outcome));
      }
    });
  }
}
