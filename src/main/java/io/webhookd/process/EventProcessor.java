package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.observe.Metrics;
import io.webhookd.observe.ProcessingOutcomes;
import io.webhookd.store.FirstAttempt;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxTransitions;
import io.webhookd.store.Tx;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt at one claimed event, wherever it runs (a worker, or the commit that stores the
 * event): the handler's effects and the event's new status through one transaction, or, when the
 * handler failed and its effects were undone, the retry or the dead letter; and what is recorded
 * once either committed (metrics, logs, alerts, whoever waits for the answer).
 */
public final class EventProcessor {

  /** A failed attempt as recorded: retried at {@code dueAt}, or dead-lettered when that is null. */
  public record Failure(FailureKind kind, String error, Long dueAt, long delayMillis) {
  }

  private static final Logger LOG = LoggerFactory.getLogger(EventProcessor.class);
  private static final Set<String> WARNED_TYPES = ConcurrentHashMap.newKeySet();
  private static final String IGNORED = "ignored";
  private static final FirstAttempt.Outcome PROCESSED_OUTCOME = new FirstAttempt.Outcome(InboxStatus.PROCESSED, null);
  private static final FirstAttempt.Outcome IGNORED_OUTCOME =
      new FirstAttempt.Outcome(InboxStatus.IGNORED, "no handler for this type");
  private static final int MAX_ERROR_LENGTH = 500;

  private final HandlerRegistry handlers;
  private final String owner;
  private final RetryPolicy retryPolicy;
  private final FaultInjector faults;
  private final DeadLetterAlerts alerts;
  private final Metrics metrics;
  private final ProcessingOutcomes outcomes;
  private final ProcessingWatch watch;

  /** @param faults failures injected on purpose before the commit (resilience tests only) */
  public EventProcessor(HandlerRegistry handlers, String owner, RetryPolicy retryPolicy, FaultInjector faults,
      DeadLetterAlerts alerts, Metrics metrics, ProcessingOutcomes outcomes, ProcessingWatch watch) {
    this.handlers = handlers;
    this.owner = owner;
    this.retryPolicy = retryPolicy;
    this.faults = faults;
    this.alerts = alerts;
    this.metrics = metrics;
    this.outcomes = outcomes;
    this.watch = watch;
  }

  /**
   * The attempt's effects and the event's new status through {@code tx}; the summary of what was
   * done on success.
   *
   * @param attempt the attempt at {@code inbox}, read beforehand ({@link #prepare})
   */
  public Future<JsonObject> attempt(Attempt attempt, InboxEvent inbox, Tx tx) {
    return attempt.run(inbox, tx).compose(done -> InboxTransitions.finish(tx, inbox, owner,
        done.outcome().status(), done.outcome().detail()).map(done.result()));
  }

  /**
   * What of an attempt needs no database, done now on the calling thread (reading the body, see
   * {@link EventHandler#prepare}); the rest, returned, runs in the transaction. A body that is not
   * a JSON object fails it with {@link InvalidEventException}.
   *
   * @param parsed the body already parsed (read only), or null
   */
  public Attempt prepare(WebhookEvent event, JsonObject parsed) {
    JsonObject envelope = parsed;
    if (envelope == null) {
      try {
        envelope = new JsonObject(Buffer.buffer(event.body()));
      } catch (DecodeException | ClassCastException e) {
        return (inbox, tx) -> Future.failedFuture(new InvalidEventException("the stored body is not a JSON object"));
      }
    }
    String type = event.type();
    Optional<EventHandler> handler = handlers.find(type);
    if (handler.isEmpty()) {
      return (inbox, tx) -> {
        if (WARNED_TYPES.add(type)) {
          LOG.warn("no handler for event type {}: such events are recorded as ignored", type);
        }
        return Future.succeededFuture(new Done(IGNORED_OUTCOME, new JsonObject().put(IGNORED, "no handler for " + type)));
      };
    }
    EventHandler.Prepared handling = read(handler.get(), event, envelope);
    // The injected fault comes after the effects, inside their transaction: it undoes them as a
    // failure at the last moment would.
    return (inbox, tx) -> handling.handle(inbox, tx)
        .map(result -> new Done(PROCESSED_OUTCOME, result != null ? result : new JsonObject()))
        .compose(faults::beforeCommit);
  }

  /**
   * A body the handler could not read fails the attempt in its transaction, as a failure of the
   * handling does: the event is stored, then retried or dead-lettered, never refused to the sender.
   */
  private static EventHandler.Prepared read(EventHandler handler, WebhookEvent event, JsonObject envelope) {
    try {
      return handler.prepare(event, envelope);
    } catch (RuntimeException e) {
      return (inbox, tx) -> Future.failedFuture(e);
    }
  }

  /**
   * An attempt whose reading is done: the handler's effects through {@code tx}, and what they leave
   * the event in. The event's status is not written: {@link #attempt} writes it, or the store, for
   * a first attempt in the commit that stores the event.
   */
  @FunctionalInterface
  public interface Attempt {
    Future<Done> run(InboxEvent inbox, Tx tx);
  }

  /** A successful attempt: the outcome to record, and the summary of what was done. */
  public record Done(FirstAttempt.Outcome outcome, JsonObject result) {
  }

  /** A successful attempt committed. Any thread. */
  public void processed(InboxEvent inbox, JsonObject result, long nanos) {
    String type = inbox.event().type();
    metrics.processed(type, result.containsKey(IGNORED) ? "ignored" : "processed", nanos);
    outcomes.success();
    LOG.atDebug().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", type)
        .addKeyValue("attempt", inbox.attempt()).addKeyValue("duration_ms", nanos / 1_000_000)
        .log("processed");
    watch.processed(inbox.event().dedupKey(), result);
  }

  /**
   * Records a failed attempt (not a lost claim) through {@code tx}, after its effects were undone:
   * a transient failure with retries left is due again after the backoff; anything else goes to
   * the dead-letter queue.
   */
  public Future<Failure> recordFailure(InboxEvent inbox, Throwable cause, Tx tx) {
    FailureKind kind = FailureKind.of(cause);
    String error = oneLine(cause);
    if (kind == FailureKind.TRANSIENT && retryPolicy.mayRetry(inbox.attempt())) {
      long delay = retryPolicy.delayAfter(inbox.attempt()).toMillis();
      long dueAt = System.currentTimeMillis() + delay;
      return InboxTransitions.retryLater(tx, inbox, owner, dueAt, error)
          .map(v -> new Failure(kind, error, dueAt, delay));
    }
    return InboxTransitions.deadLetter(tx, inbox, owner, error, stackTrace(cause))
        .map(v -> new Failure(kind, error, null, 0));
  }

  /** A failed attempt's record committed. Any thread. */
  public void failed(InboxEvent inbox, Failure failure, long nanos) {
    String type = inbox.event().type();
    outcomes.failure();
    if (failure.dueAt() != null) {
      metrics.processed(type, "retry", nanos);
      metrics.retry(type);
      LOG.atWarn().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", type)
          .addKeyValue("attempt", inbox.attempt()).addKeyValue("duration_ms", nanos / 1_000_000)
          .log("processing failed, retrying in {} ms: {}", failure.delayMillis(), failure.error());
      return;
    }
    metrics.processed(type, "dead", nanos);
    LOG.atWarn().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", type)
        .addKeyValue("attempt", inbox.attempt()).addKeyValue("duration_ms", nanos / 1_000_000)
        .log("event is in the dead-letter queue ({} failure): {}", failure.kind().name().toLowerCase(Locale.ROOT),
            failure.error());
    alerts.deadLettered(inbox, failure.error());
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
