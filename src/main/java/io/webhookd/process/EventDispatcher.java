package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.webhookd.event.InboxEvent;

/** Hands stored events to the processing workers over the event bus. */
public final class EventDispatcher {

  /** The address the processing workers consume. */
  public static final String ADDRESS = "webhookd.process";

  private final Vertx vertx;
  private final DeliveryOptions options;

  public EventDispatcher(Vertx vertx, long replyTimeoutMillis) {
    this.vertx = vertx;
    this.options = new DeliveryOptions().setSendTimeout(replyTimeoutMillis);
  }

  /** Registers the codec; once per Vert.x instance, before any dispatch. */
  public static void registerCodec(Vertx vertx) {
    vertx.eventBus().registerDefaultCodec(InboxEvent.class, new InboxEventCodec());
  }

  /**
   * Completes when a worker has finished with the event, with the due time of its retry when it
   * failed and will be tried again, else null.
   */
  public Future<Long> dispatchAndWait(InboxEvent event) {
    return vertx.eventBus().<Long>request(ADDRESS, event, options).map(reply -> reply.body());
  }
}
