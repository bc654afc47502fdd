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

  private final ConcurrentHashMap<String, Waiter> waiters = new ConcurrentHashMap<>();

  /**
   * Call on the requester's context before the event is stored, so that no processing can
   * finish unseen in between.
   *
   * @param eventKey the event's {@link io.webhookd.event.WebhookEvent#dedupKey()}
   * @return the handler's result, or null when the budget ran out first (or the wait was cancelled)
   */
  public Future<JsonObject> await(Vertx vertx, String eventKey, Duration budget) {
    Context context = vertx.getOrCreateContext();
    Promise<JsonObject> promise = Promise.promise();
    Waiter waiter = new Waiter(promise, context);
    waiters.put(eventKey, waiter);
    long timer = vertx.setTimer(Math.max(1, budget.toMillis()), id -> {
      waiters.remove(eventKey, waiter);
      promise.tryComplete(null);
    });
    return promise.future().onComplete(ar -> vertx.cancelTimer(timer));
  }

  /** Stops waiting (the event turned out a duplicate, or could not be stored). */
  public void cancel(String eventKey) {
    Waiter waiter = waiters.remove(eventKey);
    if (waiter != null) {
      waiter.context().runOnContext(v -> waiter.promise().tryComplete(null));
    }
  }

  /** The event was processed (committed); wakes its requester, if one waits. Any thread. */
  public void processed(String eventKey, JsonObject result) {
    Waiter waiter = waiters.remove(eventKey);
    if (waiter != null) {
      waiter.context().runOnContext(v -> waiter.promise().tryComplete(result));
    }
  }
}
