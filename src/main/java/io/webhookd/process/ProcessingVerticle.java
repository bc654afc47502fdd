package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.observe.Metrics;
import io.webhookd.observe.ProcessingOutcomes;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxTransitions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
  private static final Set<String> WARNED_TYPES = ConcurrentHashMap.newKeySet();
  private static final int MAX_ERROR_LENGTH = 500;
  private static final String IGNORED = "ignored";

  private final InboxStore store;
  private final HandlerRegistry handlers;
  private final RetryPolicy retryPolicy;
  private final ProcessingWatch watch;
  private final DeadLetterAlerts alerts;
  private final Metrics metrics;
  private final ProcessingOutcomes outcomes;
  private final String owner;
  private final FaultInjector faults;
  private MessageConsumer<InboxEvent> consumer;

  public ProcessingVerticle(InboxStore store, HandlerRegistry handlers, RetryPolicy retryPolicy,
      ProcessingWatch watch, DeadLetterAlerts alerts, Metrics metrics, ProcessingOutcomes outcomes, String owner) {
    this(store, handlers, retryPolicy, watch, alerts, metrics, outcomes, owner, FaultInjector.NONE);
  }

  /** @param faults failures injected on purpose before the commit (resilience tests only) */
  public ProcessingVerticle(InboxStore store, HandlerRegistry handlers, RetryPolicy retryPolicy,
      ProcessingWatch watch, DeadLetterAlerts alerts, Metrics metrics, ProcessingOutcomes outcomes, String owner,
      FaultInjector faults) {
    this.store = store;
    this.handlers = handlers;
    this.retryPolicy = retryPolicy;
    this.watch = watch;
    this.alerts = alerts;
    this.metrics = metrics;
    this.outcomes = outcomes;
    this.owner = owner;
    this.faults = faults;
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
    process(inbox)
        .onSuccess(result -> {
          long nanos = System.nanoTime() - started;
          metrics.processed(inbox.event().type(), result.containsKey(IGNORED) ? "ignored" : "processed", nanos);
          outcomes.success();
          LOG.atDebug().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", inbox.event().type())
              .addKeyValue("attempt", inbox.attempt()).addKeyValue("duration_ms", nanos / 1_000_000)
              .log("processed");
          watch.processed(inbox.event().dedupKey(), result);
          message.reply(null);
        })
        .onFailure(failure -> onFailure(message, inbox, failure, System.nanoTime() - started));
  }

  private Future<JsonObject> process(InboxEvent inbox) {
    JsonObject envelope;
    try {
      envelope = new JsonObject(Buffer.buffer(inbox.event().body()));
    } catch (DecodeException | ClassCastException e) {
      return Future.failedFuture(new InvalidEventException("the stored body is not a JSON object"));
    }
    String type = inbox.event().type();
    Optional<EventHandler> handler = handlers.find(type);
    if (handler.isEmpty()) {
      if (WARNED_TYPES.add(type)) {
        LOG.warn("no handler for event type {}: such events are recorded as ignored", type);
      }
      JsonObject ignored = new JsonObject().put(IGNORED, "no handler for " + type);
      return store.inTransaction(tx -> InboxTransitions.finish(tx, inbox, owner, InboxStatus.IGNORED,
          "no handler for this type").map(ignored));
    }
    return store.inTransaction(tx -> handler.get().handle(inbox, envelope, tx)
        .compose(result -> InboxTransitions.finish(tx, inbox, owner, InboxStatus.PROCESSED, null)
            .map(result))
        .compose(faults::beforeCommit));
  }

  private void onFailure(Message<InboxEvent> message, InboxEvent inbox, Throwable failure, long nanos) {
    FailureKind kind = FailureKind.of(failure);
    String type = inbox.event().type();
    if (kind == FailureKind.CLAIM_LOST) {
      LOG.warn("event {} was taken over by another claim; its effects were rolled back", inbox.event().eventId());
      message.reply(null);
      return;
    }
    String error = oneLine(failure);
    if (kind == FailureKind.TRANSIENT && retryPolicy.mayRetry(inbox.attempt())) {
      long delay = retryPolicy.delayAfter(inbox.attempt()).toMillis();
      long dueAt = System.currentTimeMillis() + delay;
      store.inTransaction(tx -> InboxTransitions.retryLater(tx, inbox, owner, dueAt, error))
          .onSuccess(v -> {
            metrics.processed(type, "retry", nanos);
            metrics.retry(type);
            outcomes.failure();
            LOG.atWarn().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", type)
                .addKeyValue("attempt", inbox.attempt()).addKeyValue("duration_ms", nanos / 1_000_000)
                .log("processing failed, retrying in {} ms: {}", delay, error);
            message.reply(dueAt);
          })
          .onFailure(e -> message.fail(500, "could not schedule the retry: " + e.getMessage()));
      return;
    }
    store.inTransaction(tx -> InboxTransitions.deadLetter(tx, inbox, owner, error, stackTrace(failure)))
        .onSuccess(v -> {
          metrics.processed(type, "dead", nanos);
          outcomes.failure();
          LOG.atWarn().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", type)
              .addKeyValue("attempt", inbox.attempt()).addKeyValue("duration_ms", nanos / 1_000_000)
              .log("event is in the dead-letter queue ({} failure): {}", kind.name().toLowerCase(Locale.ROOT), error);
          alerts.deadLettered(inbox, error);
          message.reply(null);
        })
        .onFailure(e -> message.fail(500, "could not dead-letter the event: " + e.getMessage()));
  }

  private static String oneLine(Throwable failure) {
    String text = failure.getClass().getSimpleName() + ": " + failure.getMessage();
    text = text.replaceAll("\\s+", " ");
    return text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) : text;
  }

  private static String stackTrace(Throwable failure) {
    StringWriter out = new StringWriter();
    failure.printStackTrace(new PrintWriter(out));
    return out.toString();
  }
}
