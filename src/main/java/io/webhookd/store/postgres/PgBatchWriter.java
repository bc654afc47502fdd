package io.webhookd.store.postgres;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlConnection;
import io.webhookd.store.Completions;
import io.webhookd.store.StorageUnavailableException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Group commit: items queued from any event loop are written together on one connection, a few
 * batches at a time, so that a batch pays for one commit (and, for a single statement, one
 * execution and one round trip) where an item each would pay for its own. While those commit, new
 * items gather for the next batch, so the batch size follows the load: under light load an item
 * is written alone at once.
 *
 * @param <I> the item written
 * @param <O> what each item turns into
 */
final class PgBatchWriter<I, O> {

  private record Queued<I, O>(I item, Promise<O> promise, Context context, long queuedAt) {
  }

  /** Writes a batch on one connection. */
  interface BatchStatement<I, O> {
    /**
     * One outcome per item, in the batch's order; a failed future fails every item (and, in a
     * transaction, rolls the batch back).
     */
    Future<List<AsyncResult<O>>> write(SqlConnection conn, List<I> batch);
  }

  private final PgBounded db;
  /**
   * Where batches run: event loops of their own. Begun on a caller's context, a batch would run
   * there, and on a worker's context every answer of the database would hop to a worker thread
   * before the next statement could go out; a batch of transactions waits for many answers.
   */
  private final Context[] lanes;
  private final AtomicInteger nextLane = new AtomicInteger();
  private final String what;
  private final boolean transactional;
  private final boolean retryAlone;
  private final BatchStatement<I, O> statement;
  private final Comparator<I> lockOrder;
  private final int batchSize;
  private final int maxConcurrentBatches;
  private final int capacity;
  private final long timeoutMillis;
  private final long maxWaitMillis;
  private final ConcurrentLinkedQueue<Queued<I, O>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger running = new AtomicInteger();
  private final Promise<Void> drained = Promise.promise();
  private volatile boolean closing;

  /**
   * @param what          what is written, for failures and logs ("append", "transaction")
   * @param transactional whether a batch runs in a transaction of the client's (else as the
   *                      statement sees to it: autocommit, or a transaction of its own)
   * @param retryAlone    whether items that failed in a way that succeeds when run again (a
   *                      deadlock) run again one by one, else together
   * @param lockOrder     the order items are written in, the same in every batch, so that concurrent
   *                      batches (of this or another instance) take row locks in one order and never
   *                      deadlock; null keeps the order they came in
   * @param timeoutMillis how long a batch may take
   * @param maxWaitMillis how long an item may wait for its batch; 0 for as long as it takes
   */
  PgBatchWriter(Vertx vertx, PgBounded db, String what, boolean transactional, boolean retryAlone,
      BatchStatement<I, O> statement, Comparator<I> lockOrder, int batchSize, int maxConcurrentBatches, int capacity, long timeoutMillis,
      long maxWaitMillis) {
    this.db = db;
    this.lanes = new Context[maxConcurrentBatches];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = ((VertxInternal) vertx).createEventLoopContext();
    }
    this.what = what;
    this.transactional = transactional;
    this.retryAlone = retryAlone;
    this.statement = statement;
    this.lockOrder = lockOrder;
    this.batchSize = batchSize;
    this.maxConcurrentBatches = maxConcurrentBatches;
    this.capacity = capacity;
    this.timeoutMillis = timeoutMillis;
    this.maxWaitMillis = maxWaitMillis;
  }

  /** The item's outcome, on the caller's context; the statement's own failures are passed on as they are. */
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

  /**
   * The next batch. An item that already waited longer than it may is failed unwritten: its caller
   * (a sender waiting for its answer) has given up on it or is about to.
   */
  private List<Queued<I, O>> take() {
    List<Queued<I, O>> batch = new ArrayList<>();
    Completions expired = new Completions();
    long oldest = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
    Queued<I, O> next;
    int taken = 0;
    while (batch.size() < batchSize && (next = queue.poll()) != null) {
      taken++;
      if (maxWaitMillis > 0 && next.queuedAt() - oldest < 0) {
        expired.fail(next.promise(), next.context(), new StorageUnavailableException(
            "PostgreSQL did not answer within " + maxWaitMillis + " ms (" + what + ", still queued)", null));
      } else {
        batch.add(next);
      }
    }
    queued.addAndGet(-taken);
    expired.flush();
    if (lockOrder != null) {
      batch.sort((a, b) -> lockOrder.compare(a.item(), b.item()));
    }
    return batch;
  }

  private void run(List<Queued<I, O>> batch, boolean mayRetry) {
    lanes[Math.floorMod(nextLane.getAndIncrement(), lanes.length)].runOnContext(v -> write(batch, mayRetry));
  }

  private void write(List<Queued<I, O>> batch, boolean mayRetry) {
    List<I> items = new ArrayList<>(batch.size());
    batch.forEach(q -> items.add(q.item()));
    // A hung database must not hang the caller: the batch fails at its deadline. For an append
    // the sender gets 503 and retries; should the commit still land, the retry is a duplicate.
    Future<List<AsyncResult<O>>> written = transactional
        ? db.withTransaction(timeoutMillis, what, conn -> statement.write(conn, items))
        : db.withConnection(timeoutMillis, what, conn -> statement.write(conn, items));
    written.onComplete(ar -> {
      List<Queued<I, O>> again = new ArrayList<>();
      Completions completions = new Completions();
      for (int i = 0; i < batch.size(); i++) {
        Queued<I, O> q = batch.get(i);
        AsyncResult<O> outcome = ar.succeeded() ? ar.result().get(i) : null;
        Throwable failure = outcome == null ? ar.cause() : outcome.cause();
        if (outcome != null && outcome.succeeded()) {
          completions.succeed(q.promise(), q.context(), outcome.result());
        } else if (mayRetry && retryable(failure)) {
          again.add(q);
        } else {
          completions.fail(q.promise(), q.context(), failure);
        }
      }
      completions.flush();
      if (!again.isEmpty()) {
        // Once more, now that the batch that got in their way has ended: one batch for the items of
        // a single statement, each item alone for items run one after another, so that they cannot
        // get in each other's way again. They keep this batch's turn, and take more for a moment.
        if (retryAlone) {
          running.addAndGet(again.size() - 1);
          again.forEach(q -> run(List.of(q), false));
        } else {
          run(again, false);
        }
        return;
      }
      running.decrementAndGet();
      startBatches();
    });
  }

  /**
   * Serialization failures, deadlocks, and a lock not granted within a batch's lock timeout
   * ({@link PgSavepointBatch}) succeed when run again.
   */
  private static boolean retryable(Throwable failure) {
    return failure instanceof PgException pg
        && ("40001".equals(pg.getSqlState()) || "40P01".equals(pg.getSqlState())
            || "55P03".equals(pg.getSqlState()));
  }
}
