package io.webhookd.store.sqlite;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.webhookd.store.BatchTimings;
import io.webhookd.store.Completions;
import io.webhookd.store.StorageUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns the SQLite connection. Callers queue tasks; the thread takes every task
 * waiting (up to the batch size, optionally lingering a moment for more), runs them in one
 * transaction and commits once, so concurrent requests share one fsync (group commit). Results are
 * handed back on each caller's Vert.x context, so JDBC never runs on an event loop. With a
 * {@link WalSyncer} they are handed back once the commit is on disk, the sync running on a thread
 * of its own while this one goes on with the next batch.
 */
final class SqliteWriter {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteWriter.class);

  /** Work for the writer thread. */
  interface Task<T> {
    T run(Session session) throws SQLException;
  }

  /** What a task sees: the connection, with statements prepared once and reused. */
  static final class Session {
    private final Connection connection;
    private final Map<String, PreparedStatement> statements = new HashMap<>();

    private Session(Connection connection) {
      this.connection = connection;
    }

    PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement statement = statements.get(sql);
      if (statement == null) {
        statement = connection.prepareStatement(sql);
        statements.put(sql, statement);
      }
      return statement;
    }

    private void closeStatements() {
      for (PreparedStatement statement : statements.values()) {
        try {
          statement.close();
        } catch (SQLException e) {
          LOG.debug("closing a statement failed", e);
        }
      }
      statements.clear();
    }
  }

  /** How a task runs: in the batch's transaction, under a savepoint of its own, or alone between batches. */
  private enum Kind { PLAIN, ISOLATED, ALONE }

  private record Queued<T>(Task<T> task, Promise<T> promise, Context context, Kind kind, long queuedAt) {
  }

  private static final Queued<Void> STOP = new Queued<>(s -> null, null, null, Kind.PLAIN, 0);

  private final Connection connection;
  /** Null when each commit syncs itself (or nothing waits for the disk). */
  private final WalSyncer syncer;
  private final Session session;
  private final BlockingQueue<Queued<?>> queue;
  private final int batchSize;
  private final long lingerNanos;
  private final Thread thread;
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile boolean accepting = true;
  /** A task to run alone that ended the filling of a batch: it runs right after that batch. */
  private Queued<?> carried;
  private volatile BatchTimings timings = BatchTimings.NONE;

  SqliteWriter(Connection connection, WalSyncer syncer, int batchSize, Duration linger, int queueCapacity)
      throws SQLException {
    this.connection = connection;
    this.syncer = syncer;
    this.session = new Session(connection);
    // Transactions are begun and ended by hand, with BEGIN and COMMIT statements. JDBC's commit()
    // would begin the next (immediate) transaction at once, holding the write lock between batches
    // and locking out other processes such as the operator CLI; so it is never called. JDBC's
    // autocommit is off all the same: with it on, the driver tries to begin and commit after every
    // statement, to find out whether a transaction is open (three calls into SQLite each time).
    // Turning it off begins a transaction, ended here at once.
    this.connection.setAutoCommit(false);
    session.prepare("ROLLBACK").execute();
    this.queue = new ArrayBlockingQueue<>(queueCapacity + 1);
    this.batchSize = batchSize;
    this.lingerNanos = linger.toNanos();
    this.thread = new Thread(this::loop, SqliteInboxStore.WRITER_THREAD);
    this.thread.setDaemon(true);
  }

  /** Where the writer reports its batches from now on. */
  void reportTimings(BatchTimings timings) {
    this.timings = timings;
  }

  void start() {
    if (syncer != null) {
      syncer.start();
    }
    thread.start();
  }

  /** A task that fails only when the database does (then its whole batch is run again task by task). */
  <T> Future<T> submit(Task<T> task) {
    return enqueue(task, Kind.PLAIN);
  }

  /** A task that may fail on its own (a handler): it runs under a savepoint, undone alone. */
  <T> Future<T> submitIsolated(Task<T> task) {
    return enqueue(task, Kind.ISOLATED);
  }

  /**
   * A task that must run outside any transaction (a checkpoint): it runs alone, between two
   * batches, in its turn with the others.
   */
  <T> Future<T> submitAlone(Task<T> task) {
    return enqueue(task, Kind.ALONE);
  }

  private <T> Future<T> enqueue(Task<T> task, Kind kind) {
    Promise<T> promise = Promise.promise();
    if (!accepting || !queue.offer(new Queued<>(task, promise, Vertx.currentContext(), kind, System.nanoTime()))) {
      return Future.failedFuture(new StorageUnavailableException(
          accepting ? "the write queue is full" : "the store is closed", null));
    }
    return promise.future();
  }

  /** Stops taking tasks, runs every task already queued, then closes the connection. */
  CompletableFuture<Void> close() {
    if (accepting) {
      accepting = false;
      // The queue has one slot more than its capacity, kept for this marker.
      queue.offer(STOP);
    }
    return stopped;
  }

  private void loop() {
    List<Queued<?>> batch = new ArrayList<>(batchSize);
    try {
      while (true) {
        Queued<?> first = carried != null ? carried : queue.take();
        carried = null;
        if (first.kind() == Kind.ALONE) {
          runAlone(first);
          continue;
        }
        boolean stop = first == STOP;
        if (!stop) {
          batch.add(first);
          stop = fill(batch);
        }
        if (!batch.isEmpty()) {
          reportWaits(batch);
          runBatch(batch);
          batch.clear();
        }
        if (stop) {
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      accepting = false;
      failQueued();
      if (syncer != null) {
        // What was committed is answered once synced, before the connection goes.
        syncer.close();
      }
      session.closeStatements();
      try {
        connection.close();
      } catch (SQLException e) {
        LOG.warn("closing the SQLite connection failed: {}", e.getMessage());
      }
      stopped.complete(null);
    }
  }

  /** Once per task, however often its batch is run again. */
  private void reportWaits(List<Queued<?>> batch) {
    BatchTimings report = timings;
    long now = System.nanoTime();
    for (Queued<?> queued : batch) {
      report.waited(now - queued.queuedAt());
    }
  }

  /** Whatever is still queued after the loop ended (it died) is refused, never left hanging. */
  private void failQueued() {
    List<Queued<?>> left = new ArrayList<>();
    if (carried != null) {
      left.add(carried);
      carried = null;
    }
    queue.drainTo(left);
    left.remove(STOP);
    failAll(left, new StorageUnavailableException("the store is closed", null));
  }

  /** Adds what is waiting, lingering for more if configured. Returns true on the stop marker. */
  private boolean fill(List<Queued<?>> batch) throws InterruptedException {
    long deadline = System.nanoTime() + lingerNanos;
    while (batch.size() < batchSize) {
      Queued<?> next = queue.poll();
      if (next == null && lingerNanos > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        next = queue.poll(left, TimeUnit.NANOSECONDS);
      }
      if (next == null) {
        break;
      }
      if (next == STOP) {
        return true;
      }
      if (next.kind() == Kind.ALONE) {
        carried = next;
        break;
      }
      batch.add(next);
    }
    return false;
  }

  /**
   * Runs the batch in one transaction and commits once. A task that may fail on its own runs under
   * a savepoint, so its failure is undone alone and its neighbours still commit; a plain task
   * failing (which only a database problem does) undoes the batch, which then runs task by task.
   * Only a failed commit fails a whole batch.
   */
  private void runBatch(List<Queued<?>> batch) {
    Object[] results = new Object[batch.size()];
    Throwable[] failures = new Throwable[batch.size()];
    BatchTimings report = timings;
    long started = System.nanoTime();
    try {
      session.prepare("BEGIN IMMEDIATE").execute();
      for (int i = 0; i < batch.size(); i++) {
        Queued<?> queued = batch.get(i);
        if (queued.kind() != Kind.ISOLATED) {
          try {
            results[i] = queued.task().run(session);
          } catch (SQLException | RuntimeException e) {
            rollback();
            if (batch.size() > 1) {
              for (Queued<?> alone : batch) {
                runBatch(List.of(alone));
              }
              return;
            }
            failures[i] = e instanceof TaskFailure failure ? failure.getCause() : e;
            deliver(batch, results, failures);
            return;
          }
          continue;
        }
        session.prepare("SAVEPOINT task").execute();
        try {
          results[i] = queued.task().run(session);
        } catch (SQLException | RuntimeException e) {
          session.prepare("ROLLBACK TO task").execute();
          failures[i] = e instanceof TaskFailure failure ? failure.getCause() : e;
        }
        session.prepare("RELEASE task").execute();
      }
      session.prepare("COMMIT").execute();
    } catch (SQLException e) {
      rollback();
      LOG.error("SQLite commit failed: {}", e.getMessage());
      failAll(batch, new StorageUnavailableException("SQLite write failed", e));
      return;
    }
    long committedAt = System.nanoTime();
    report.committed(batch.size(), committedAt - started);
    if (syncer == null) {
      deliver(batch, results, failures);
      return;
    }
    List<Queued<?>> committed = List.copyOf(batch);
    syncer.afterCommit(() -> {
          report.synced(System.nanoTime() - committedAt);
          deliver(committed, results, failures);
        },
        lost -> failAll(committed, new StorageUnavailableException("SQLite WAL sync failed", lost)));
  }

  private void runAlone(Queued<?> queued) {
    Object[] results = new Object[1];
    Throwable[] failures = new Throwable[1];
    try {
      results[0] = queued.task().run(session);
    } catch (SQLException | RuntimeException e) {
      failures[0] = e;
    }
    deliver(List.of(queued), results, failures);
  }

  private static void failAll(List<Queued<?>> batch, StorageUnavailableException failure) {
    Throwable[] failures = new Throwable[batch.size()];
    Arrays.fill(failures, failure);
    deliver(batch, new Object[batch.size()], failures);
  }

  /** Carries a task's own failure (not a storage failure) out of the task unchanged. */
  static final class TaskFailure extends RuntimeException {
    private TaskFailure(Throwable cause) {
      super(cause.getMessage(), cause, false, false);
    }

    static RuntimeException of(Throwable cause) {
      return cause instanceof RuntimeException runtime ? runtime : new TaskFailure(cause);
    }
  }

  /** Ends a failed transaction; when it never began (BEGIN failed) there is nothing to undo. */
  private void rollback() {
    try {
      session.prepare("ROLLBACK").execute();
    } catch (SQLException e) {
      LOG.debug("SQLite rollback: {}", e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  private static void deliver(List<Queued<?>> batch, Object[] results, Throwable[] failures) {
    Completions completions = new Completions();
    for (int i = 0; i < batch.size(); i++) {
      Queued<Object> queued = (Queued<Object>) batch.get(i);
      if (failures[i] != null) {
        completions.fail(queued.promise(), queued.context(), failures[i]);
      } else {
        completions.succeed(queued.promise(), queued.context(), results[i]);
      }
    }
    completions.flush();
  }
}
