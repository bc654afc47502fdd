package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.EventTypes;
import io.webhookd.process.EventHandler;
import io.webhookd.process.HandlerRegistry;

/** The CRM's handler for each event type it knows. */
public final class CrmHandlers {

  private CrmHandlers() {
  }

  public static HandlerRegistry registry() {
    EventHandler acknowledge = (event, envelope, tx) ->
        Future.succeededFuture(new JsonObject().put("type", event.event().type()));
    return new HandlerRegistry()
        .register(EventTypes.MESSAGES, acknowledge)
        .register(EventTypes.CALLS, acknowledge)
        .register(EventTypes.CONTACTS, acknowledge)
        .register(EventTypes.OPT_OUT, acknowledge);
  }
}
