package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.InboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker that processes claimed events handed to it over the bus and marks them processed.
 * If the claim was taken over meanwhile (this instance stalled past its lease), the completion is
 * refused by the store and the event counts as handled elsewhere.
 */
public final class ProcessingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessingVerticle.class);

  private final InboxStore store;
  private final String owner;
  private MessageConsumer<InboxEvent> consumer;

  public ProcessingVerticle(InboxStore store, String owner) {
    this.store = store;
    this.owner = owner;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(EventDispatcher.ADDRESS, this::onEvent);
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer.unregister();
  }

  private void onEvent(Message<InboxEvent> message) {
    InboxEvent inbox = message.body();
    handle(inbox)
        .compose(v -> store.complete(inbox.inboxId(), owner))
        .onSuccess(completed -> {
          if (!completed) {
            LOG.warn("event {} was taken over by another claim before it completed", inbox.event().eventId());
          }
          message.reply(null);
        })
        .onFailure(e -> message.fail(500, e.getMessage()));
  }

  /** Handlers arrive with the processing pipeline; until then an event needs no work. */
  private Future<Void> handle(InboxEvent inbox) {
    return Future.succeededFuture();
  }
}
