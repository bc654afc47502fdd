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
 * A worker that takes stored events off the bus and moves them through their inbox states:
 * pending, processing, processed. An event already processed (a redelivery after a crash) is
 * acknowledged without being handled again.
 */
public final class ProcessingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessingVerticle.class);

  private final InboxStore store;
  private MessageConsumer<InboxEvent> consumer;

  public ProcessingVerticle(InboxStore store) {
    this.store = store;
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
    store.markProcessing(inbox.inboxId())
        .compose(claimed -> claimed ? handle(inbox).compose(v -> store.markProcessed(inbox.inboxId()))
            : Future.succeededFuture())
        .onSuccess(v -> message.reply(null))
        .onFailure(e -> {
          // The event stays pending/processing in the store and is taken up again on restart.
          LOG.warn("processing event {} failed: {}", inbox.event().eventId(), e.toString());
          message.fail(500, "processing failed");
        });
  }

  /** Handlers arrive with the processing pipeline; until then an event needs no work. */
  private Future<Void> handle(InboxEvent inbox) {
    return Future.succeededFuture();
  }
}
