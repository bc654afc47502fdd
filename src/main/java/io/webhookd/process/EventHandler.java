package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
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
}
