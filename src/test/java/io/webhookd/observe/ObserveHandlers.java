package io.webhookd.observe;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.process.EventHandler;
import io.webhookd.process.InvalidEventException;
import io.webhookd.store.Tx;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Handlers for the observability tests; each records the attempts it saw. */
final class ObserveHandlers {

  private ObserveHandlers() {
  }

  /** Records every call; succeeds. */
  static class Recording implements EventHandler {
    private final List<String> calls = new CopyOnWriteArrayList<>();

    @Override
    public Future<JsonObject> handle(InboxEvent event, JsonObject envelope, Tx tx) {
      calls.add(event.event().eventId() + "#" + event.attempt());
      return outcome(event);
    }

    Future<JsonObject> outcome(InboxEvent event) {
      return Future.succeededFuture(new JsonObject().put("handled", event.event().eventId()));
    }

    /** {@code <event id>#<attempt>} of every call, in order. */
    List<String> calls() {
      return List.copyOf(calls);
    }
  }

  /**
   * Fails the first attempt of each event with a failure of no known kind (so: transient, retried),
   * then succeeds.
   */
  static final class FailsOnce extends Recording {
    @Override
    Future<JsonObject> outcome(InboxEvent event) {
      if (event.attempt() == 1) {
        return Future.failedFuture(new IllegalStateException("test: the CRM is briefly unavailable"));
      }
      return super.outcome(event);
    }
  }

  /** Refuses every event for good: dead-lettered at the first attempt. */
  static final class Permanent extends Recording {
    @Override
    Future<JsonObject> outcome(InboxEvent event) {
      return Future.failedFuture(new InvalidEventException("test: this event can never be processed"));
    }
  }

  /**
   * Holds every event until {@link #release()}: its future completes only then, so the event stays
   * claimed (and later ones pending) without blocking a thread. Only for a store whose transactions
   * may complete later (PostgreSQL); SQLite runs handlers on its one writer thread and needs their
   * result at once.
   */
  static final class Gate extends Recording {
    private record Held(Promise<JsonObject> promise, Context context) {
    }

    private final ConcurrentHashMap<Long, Held> held = new ConcurrentHashMap<>();
    private volatile boolean open;

    @Override
    Future<JsonObject> outcome(InboxEvent event) {
      if (open) {
        return super.outcome(event);
      }
      Promise<JsonObject> promise = Promise.promise();
      held.put(event.inboxId(), new Held(promise, Vertx.currentContext()));
      if (open) { // released meanwhile
        release();
      }
      return promise.future();
    }

    int holding() {
      return held.size();
    }

    /** Lets every held event and every later one through. */
    synchronized void release() {
      open = true;
      // Completed on the context the handler ran on, as the store's own callbacks would be.
      held.forEach((id, h) -> {
        JsonObject result = new JsonObject().put("released", id);
        if (h.context() == null) {
          h.promise().tryComplete(result);
        } else {
          h.context().runOnContext(v -> h.promise().tryComplete(result));
        }
      });
      held.clear();
    }
  }
}
