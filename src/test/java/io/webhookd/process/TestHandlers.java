package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.Tx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real {@link EventHandler}s for the pipeline tests. Each records every call it gets, thread-safely,
 * and how many of its calls ran at the same time, per conversation (partition) and overall.
 */
final class TestHandlers {

  private TestHandlers() {
  }

  /**
   * One handler call.
   *
   * @param startedAtMillis wall-clock time the call began (comparable with the store's times)
   * @param succeeded       whether the handler answered with success
   */
  record Call(String eventId, String type, String partition, long occurredAt, int attempt,
      long startedAtMillis, long startedAtNanos, long endedAtNanos, String thread, boolean succeeded) {
  }

  /** Records each call, optionally spends {@code work} on it, then succeeds with a small summary. */
  static class Recording implements EventHandler {

    private final Duration work;
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, List<String>> readOn = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> runningByPartition = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> maxByPartition = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger maxRunning = new AtomicInteger();

    Recording() {
      this(Duration.ZERO);
    }

    /** @param work how long each call takes (blocking, as real work would) */
    Recording(Duration work) {
      this.work = work;
    }

    /** Notes the thread the body is read on, as a handler that reads outside the transaction would. */
    @Override
    public final Prepared prepare(WebhookEvent event, JsonObject envelope) {
      readOn.computeIfAbsent(event.eventId(), id -> new CopyOnWriteArrayList<>()).add(Thread.currentThread().getName());
      return (inbox, tx) -> handle(inbox, envelope, tx);
    }

    /** The threads the attempts at {@code eventId} were read on, in order. */
    List<String> readThreads(String eventId) {
      return readOn.getOrDefault(eventId, List.of());
    }

    @Override
    public final Future<JsonObject> handle(InboxEvent event, JsonObject envelope, Tx tx) {
      long startedAtMillis = System.currentTimeMillis();
      long startedAtNanos = System.nanoTime();
      String partition = event.event().partitionKey();
      int inPartition = runningByPartition.computeIfAbsent(partition, p -> new AtomicInteger()).incrementAndGet();
      maxByPartition.computeIfAbsent(partition, p -> new AtomicInteger()).accumulateAndGet(inPartition, Math::max);
      maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      Future<JsonObject> outcome = null;
      try {
        if (!work.isZero()) {
          simulateWork(work);
        }
        outcome = outcome(event, envelope);
        return outcome;
      } finally {
        running.decrementAndGet();
        runningByPartition.get(partition).decrementAndGet();
        calls.add(new Call(event.event().eventId(), event.event().type(), partition,
            event.event().occurredAt(), event.attempt(), startedAtMillis, startedAtNanos, System.nanoTime(),
            Thread.currentThread().getName(), outcome != null && outcome.succeeded()));
      }
    }

    /** What the handler answers once its work is done; may throw. */
    Future<JsonObject> outcome(InboxEvent event, JsonObject envelope) {
      return Future.succeededFuture(new JsonObject()
          .put("handled", event.event().eventId())
          .put("type", event.event().type())
          .put("attempt", event.attempt()));
    }

    /** Every call so far, in the order they ended. */
    List<Call> calls() {
      return List.copyOf(calls);
    }

    List<Call> callsFor(String eventId) {
      return calls.stream().filter(c -> c.eventId().equals(eventId)).toList();
    }

    int callCount(String eventId) {
      return callsFor(eventId).size();
    }

    /** The most calls that ran at once within one conversation, over all conversations. */
    int maxConcurrentWithinAPartition() {
      return maxByPartition.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
    }

    /** The most calls that ran at once overall. */
    int maxConcurrent() {
      return maxRunning.get();
    }

    private static void simulateWork(Duration work) {
      try {
        Thread.sleep(work.toMillis()); // the handler's own (slow) work, not synchronisation
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  /** Fails its first {@code failures} attempts of each event with a retryable 503, then succeeds. */
  static final class FailsThenSucceeds extends Recording {
    private final int failures;

    FailsThenSucceeds(int failures) {
      this.failures = failures;
    }

    @Override
    Future<JsonObject> outcome(InboxEvent event, JsonObject envelope) {
      if (event.attempt() <= failures) {
        return Future.failedFuture(new OutboundHttpException("test CRM", 503));
      }
      return super.outcome(event, envelope);
    }
  }

  /** Always throws {@link InvalidEventException}: a permanent failure. */
  static final class AlwaysInvalid extends Recording {
    @Override
    Future<JsonObject> outcome(InboxEvent event, JsonObject envelope) {
      throw new InvalidEventException("test handler refuses event " + event.event().eventId());
    }
  }

  /** Always fails with a retryable 503: a transient failure that never goes away. */
  static final class AlwaysTransient extends Recording {
    @Override
    Future<JsonObject> outcome(InboxEvent event, JsonObject envelope) {
      return Future.failedFuture(new OutboundHttpException("test CRM", 503));
    }
  }
}
