package io.webhookd.process;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets a request wait, within a budget, for its own event to be processed in this process, so that
 * a critical event (an inbound text, an opt-out) can be answered with what was done. Several
 * requests may wait on one event (concurrent deliveries of it); each wait ends on its own.
 */
public final class ProcessingWatch {

  /** One request's wait. */
  public static final class Waiting {
    private final Promise<JsonObject> promise = Promise.promise();
    private final Context context;
    private final String eventKey;
    private final ProcessingWatch watch;

    private Waiting(Context context, String eventKey, ProcessingWatch watch) {
      this.context = context;
      this.eventKey = eventKey;
      this.watch = watch;
    }

    /** The handler's result, or null when the budget ran out first or the wait was cancelled. */
    public Future<JsonObject> result() {
      return promise.future();
    }

    /** Stops this wait (its event turned out a duplicate, or could not be stored). */
    public void cancel() {
      watch.remove(this);
      context.runOnContext(v -> promise.tryComplete(null));
    }
  }

  private final ConcurrentHashMap<String, List<Waiting>> waiting = new ConcurrentHashMap<>();

  /**
   * Call on the requester's context before the event is stored, so that no processing can
   * finish unseen in between.
   *
   * @param eventKey the event's {@link io.webhookd.event.WebhookEvent#dedupKey()}
   */
  public Waiting await(Vertx vertx, String eventKey, Duration budget) {
    Waiting wait = new Waiting(vertx.getOrCreateContext(), eventKey, this);
    waiting.compute(eventKey, (key, list) -> {
      List<Waiting> all = list == null ? new ArrayList<>() : list;
      all.add(wait);
      return all;
    });
    long timer = vertx.setTimer(Math.max(1, budget.toMillis()), id -> {
      remove(wait);
      wait.promise.tryComplete(null);
    });
    wait.promise.future().onComplete(ar -> vertx.cancelTimer(timer));
    return wait;
  }

  /** The event was processed (committed); wakes whoever waits for it. Any thread. */
  public void processed(String eventKey, JsonObject result) {
    List<Waiting> woken = waiting.remove(eventKey);
    if (woken != null) {
      for (Waiting wait : woken) {
        wait.context.runOnContext(v -> wait.promise.tryComplete(result));
      }
    }
  }

  private void remove(Waiting wait) {
    waiting.computeIfPresent(wait.eventKey, (key, list) -> {
      list.remove(wait);
      return list.isEmpty() ? null : list;
    });
  }
}
