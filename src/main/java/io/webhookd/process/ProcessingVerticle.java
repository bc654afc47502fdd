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
 * A worker that processes one claimed event at a time: its handler's effects and its new status
 * commit in one transaction. A failure is retried later with backoff (the due time is stored, so
 * a restart keeps it) or, when permanent or out of retries, put in the dead-letter queue. It replies
 * to the scheduler with the retry's due time, or null.
 */
public final class ProcessingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessingVerticle.class);

  private final InboxStore store;
  private final EventProcessor processor;
  private MessageConsumer<InboxEvent> consumer;

  public ProcessingVerticle(InboxStore store, EventProcessor processor) {
    this.store = store;
    this.processor = processor;
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
    long started = System.nanoTime();
    // Read here, on this verticle's thread: the store's thread (SQLite's writer) only writes.
    EventProcessor.Attempt attempt = processor.prepare(inbox.event(), null);
    store.inTransaction(tx -> processor.attempt(attempt, inbox, tx))
        .onSuccess(result -> {
          processor.processed(inbox, result, System.nanoTime() - started);
          message.reply(null);
        })
        .onFailure(failure -> onFailure(message, inbox, failure, System.nanoTime() - started));
  }

  private void onFailure(Message<InboxEvent> message, InboxEvent inbox, Throwable failure, long nanos) {
    if (FailureKind.of(failure) == FailureKind.CLAIM_LOST) {
      LOG.warn("event {} was taken over by another claim; its effects were rolled back", inbox.event().eventId());
      message.reply(null);
      return;
    }
    store.inTransaction(tx -> processor.recordFailure(inbox, failure, tx))
        .onSuccess(recorded -> {
          processor.failed(inbox, recorded, nanos);
          message.reply(recorded.dueAt());
        })
        .onFailure(e -> message.fail(500, "could not record the failed attempt: " + e.getMessage()));
  }
}
