package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.Tx;

/**
 * The effects of one event type. A handler writes only through the given transaction, which also
 * carries the event's status change, so its effects happen exactly once; it must be idempotent by
 * the provider's ids (a replay from the dead-letter queue runs it again) and must never let a late
 * event undo the effects of a newer one.
 */
@FunctionalInterface
public interface EventHandler {

  /**
   * @param envelope the parsed body
   * @return a short summary of what was done, returned to the sender for critical events
   */
  Future<JsonObject> handle(InboxEvent event, JsonObject envelope, Tx tx);

  /**
   * What of the handling needs no database (reading the body), done now, on the calling thread;
   * the rest, returned, runs in the transaction. An event processed on arrival is read on the event
   * loop that received it, and the store's single writer (SQLite) is spared that work. A throw
   * (a body it cannot use) fails the attempt in its transaction, as a throw from {@link #handle}
   * does. Default: everything in the transaction.
   */
  default Prepared prepare(WebhookEvent event, JsonObject envelope) {
    return (inbox, tx) -> handle(inbox, envelope, tx);
  }

  /** A handling whose reading is done: what remains to run in the transaction. */
  @FunctionalInterface
  interface Prepared {
    Future<JsonObject> handle(InboxEvent event, Tx tx);
  }
}
