package io.webhookd.process;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets a request wait, within a budget, for its own event to be processed in this process, so that
 * a critical event (an inbound text, an opt-out) can be answered with what was done.
 */
public final class ProcessingWatch {

  private record Waiter(Promise<JsonObject> promise, Context context) {
  }

  private final ConcurrentHashMap<Long, Waiter> waiters = new ConcurrentHashMap<>();

  /**
   * Call on the requester's context before the event can be claimed.
   * @return the handler's result, or null when the budget ran out first
   */
  public Future<JsonObject> await(Vertx vertx, long inboxId, Duration budget) {
    Context context = vertx.getOrCreateContext();
    Promise<JsonObject> promise = Promise.promise();
    waiters.put(inboxId, new Waiter(promise, context));
    long timer = vertx.setTimer(Math.max(1, budget.toMillis()), id -> {
      waiters.remove(inboxId);
      promise.tryComplete(null);
    });
    return promise.future().onComplete(ar -> vertx.cancelTimer(timer));
  }

  /** The event was processed (committed); wakes its requester, if one waits. Any thread. */
  public void processed(long inboxId, JsonObject result) {
    Waiter waiter = waiters.remove(inboxId);
    if (waiter != null) {
      waiter.context().runOnContext(v -> waiter.promise().tryComplete(result));
    }
  }
}
