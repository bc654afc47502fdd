package io.webhookd.store.postgres;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlConnection;
import io.webhookd.store.BatchTimings;
import io.webhookd.store.Completions;
import io.webhookd.store.StorageUnavailableException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Group commit: items queued from any event loop are written together by one statement that takes
 * the whole batch (arrays as parameters), a few batches at a time. One statement is one
 * transaction in one round trip, where a statement per item would cost PostgreSQL an execution per
 * item and the client a BEGIN and a COMMIT round trip per batch. While those commit, new items
 * gather for the next batch, so the batch size follows the load.
 *
 * @param <I> the item written
 * @param <O> what each item's row set turns into
 */
final class PgBatchWriter<I, O> {

  private record Queued<I, O>(I item, Promise<O> promise, Context context, long queuedAt) {
  }

  /** Writes a batch in one statement; the results in the batch's order. */
  interface BatchStatement<I, O> {
    Future<List<O>> write(SqlConnection conn, List<I> batch);
  }

  private final PgBounded db;
  private final BatchStatement<I, O> statement;
  private final Comparator<I> lockOrder;
  private final int batchSize;
  private final int maxConcurrentBatches;
  private final int capacity;
  private final long timeoutMillis;
  private final ConcurrentLinkedQueue<Queued<I, O>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger running = new AtomicInteger();
  private final Promise<Void> drained = Promise.promise();
  private volatile BatchTimings timings = BatchTimings.NONE;
  private volatile boolean closing;

  /**
   * @param lockOrder the order items are written in, the same in every batch, so that concurrent
   *                  batches (of this or another instance) take row locks in one order and never
   *                  deadlock
   */
  PgBatchWriter(PgBounded db, BatchStatement<I, O> statement, Comparator<I> lockOrder, int batchSize,
      int maxConcurrentBatches, int capacity, long timeoutMillis) {
    this.db = db;
    this.statement = statement;
    this.lockOrder = lockOrder;
    this.batchSize = batchSize;
    this.maxConcurrentBatches = maxConcurrentBatches;
    this.capacity = capacity;
    this.timeoutMillis = timeoutMillis;
  }

  Future<O> write(I item) {
    if (closing) {
      return Future.failedFuture(new StorageUnavailableException("the store is closed", null));
    }
    if (queued.incrementAndGet() > capacity) {
      queued.decrementAndGet();
      return Future.failedFuture(new StorageUnavailableException("the write queue is full", null));
    }
    Promise<O> promise = Promise.promise();
    queue.add(new Queued<>(item, promise, Vertx.currentContext(), System.nanoTime()));
    startBatches();
    return promise.future();
  }

  /** Where the time of the batches from now on goes: waits (once per item) and committed batches. */
  void reportTimings(BatchTimings timings) {
    this.timings = timings;
  }

  /** Stops taking writes; completes once every queued write has been committed or failed. */
  Future<Void> close() {
    closing = true;
    startBatches();
    return drained.future();
  }

  private void startBatches() {
    if (closing && queue.isEmpty() && running.get() == 0) {
      drained.tryComplete();
      return;
    }
    while (!queue.isEmpty()) {
      int now = running.get();
      if (now >= maxConcurrentBatches) {
        return; // a running batch starts the next one when it finishes
      }
      if (running.compareAndSet(now, now + 1)) {
        List<Queued<I, O>> batch = take();
        if (batch.isEmpty()) {
          running.decrementAndGet();
          continue;
        }
        run(batch, true);
      }
    }
  }

  private List<Queued<I, O>> take() {
    List<Queued<I, O>> batch = new ArrayList<>();
    Queued<I, O> next;
    while (batch.size() < batchSize && (next = queue.poll()) != null) {
      batch.add(next);
    }
    queued.addAndGet(-batch.size());
    batch.sort((a, b) -> lockOrder.compare(a.item(), b.item()));
    return batch;
  }

  private void run(List<Queued<I, O>> batch, boolean mayRetry) {
    BatchTimings report = timings;
    long started = System.nanoTime();
    if (mayRetry) { // its first run: each item's wait is reported once, however often its batch runs
      batch.forEach(q -> report.waited(started - q.queuedAt()));
    }
    List<I> items = new ArrayList<>(batch.size());
    batch.forEach(q -> items.add(q.item()));
    // A hung database must not hang the sender: it gets 503 and retries. Should the commit still
    // land, the retry is answered as a duplicate.
    db.withConnection(timeoutMillis, "append", conn -> statement.write(conn, items))
        .onComplete(ar -> {
          if (ar.failed() && mayRetry && retryable(ar.cause())) {
            run(batch, false);
            return;
          }
          Completions completions = new Completions();
          List<O> results = ar.succeeded() ? ar.result() : null;
          if (results != null) {
            report.committed(batch.size(), System.nanoTime() - started);
          }
          for (int i = 0; i < batch.size(); i++) {
            Queued<I, O> q = batch.get(i);
            if (results != null) {
              completions.succeed(q.promise(), q.context(), results.get(i));
            } else {
              completions.fail(q.promise(), q.context(),
                  new StorageUnavailableException("PostgreSQL write failed: " + ar.cause().getMessage(), ar.cause()));
            }
          }
          completions.flush();
          running.decrementAndGet();
          startBatches();
        });
  }

  /** Serialization failures and deadlocks succeed when run again. */
  private static boolean retryable(Throwable failure) {
    return failure instanceof PgException pg
        && ("40001".equals(pg.getSqlState()) || "40P01".equals(pg.getSqlState()));
  }
}
