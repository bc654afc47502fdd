package io.webhookd.store.postgres;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.sqlclient.SqlConnection;
import io.webhookd.store.Completions;
import io.webhookd.store.StorageUnavailableException;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Transactions asked for while one runs are run together, as one database transaction on one
 * connection: every work starts at once, so their statements are pipelined (each round trip carries
 * one statement of every work), and one commit ends them all. A transaction per event costs
 * PostgreSQL a wake-up per statement and a WAL flush per commit, the client a round trip per
 * statement; together, a group of N pays about as many round trips as one of them.
 *
 * <p>Each transaction still commits or fails on its own. Should any work of a group fail (its own
 * failure, a lost claim, a refused statement, which in PostgreSQL aborts the whole transaction),
 * the group is rolled back and every one of its works is run again alone, in a transaction of its
 * own, as if it had never been grouped: only the failing one fails. Works use their {@link Tx} only
 * (the port's rule), so running one again repeats nothing outside the database. A group that
 * PostgreSQL did not answer in time fails as a whole: each work alone would wait as long again.
 *
 * <p>One group runs at a time. Two groups of one instance could lock the same rows (a contact, a
 * message) in opposite orders; one group cannot deadlock with itself. A group waiting on another
 * instance's group gives up after {@link #LOCK_TIMEOUT} and runs its works alone, rather than
 * waiting for PostgreSQL's deadlock detection to pick a victim.
 */
final class PgTransactionGroups {

  /** Larger groups add latency to every event in them and gain little: the round trips are shared. */
  static final int MAX_GROUP = 64;
  static final String LOCK_TIMEOUT = "200ms";

  private record Asked<T>(Function<Tx, Future<T>> work, Promise<T> promise, Context context) {
  }

  private final PgBounded db;
  private final long timeoutMillis;
  /**
   * Where groups run: an event loop of their own. Begun on a worker's context, every answer of the
   * database would hop to a worker thread before a work's next statement could go out.
   */
  private final ContextInternal lane;
  private final ConcurrentLinkedQueue<Asked<?>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  /** A group, or the works of a failed group running alone, is under way. Lane only. */
  private boolean running;

  PgTransactionGroups(Vertx vertx, PgBounded db, long timeoutMillis) {
    this.db = db;
    this.timeoutMillis = timeoutMillis;
    this.lane = ((VertxInternal) vertx).createEventLoopContext();
  }

  /** {@code work} in a transaction, possibly shared; its outcome on the caller's context. */
  <T> Future<T> run(Function<Tx, Future<T>> work) {
    Promise<T> promise = Promise.promise();
    queue.add(new Asked<>(work, promise, Vertx.currentContext()));
    if (drainScheduled.compareAndSet(false, true)) {
      lane.runOnContext(v -> {
        drainScheduled.set(false);
        startGroup();
      });
    }
    return promise.future();
  }

  private void startGroup() {
    if (running || queue.isEmpty()) {
      return;
    }
    running = true;
    List<Asked<?>> group = new ArrayList<>();
    Asked<?> next;
    while (group.size() < MAX_GROUP && (next = queue.poll()) != null) {
      group.add(next);
    }
    Future<List<Object>> done = group.size() == 1
        ? db.withTransaction(timeoutMillis, "transaction", conn -> start(group.get(0), conn, new ArrayList<>()))
            .map(Collections::<Object>singletonList)
        : db.withConnection(timeoutMillis, "transactions", conn -> together(conn, group));
    done.onComplete(ar -> {
      if (ar.succeeded()) {
        Completions completions = new Completions();
        for (int i = 0; i < group.size(); i++) {
          succeed(completions, group.get(i), ar.result().get(i));
        }
        completions.flush();
        finished();
      } else if (group.size() == 1 || ar.cause() instanceof StorageUnavailableException) {
        // Alone, a work's failure is its own; a database that did not answer would not answer
        // each work alone either.
        Completions completions = new Completions();
        for (Asked<?> asked : group) {
          completions.fail(asked.promise(), asked.context(), ar.cause());
        }
        completions.flush();
        finished();
      } else {
        alone(group).onComplete(v -> finished());
      }
    });
  }

  private void finished() {
    running = false;
    startGroup();
  }

  /**
   * The group's works in one transaction: BEGIN, every work's statements as they come, then COMMIT
   * once all of them succeeded (ROLLBACK otherwise). A connection runs its commands in order, so
   * BEGIN and the lock timeout go out ahead of the works' first statements, in the same round trip.
   */
  private Future<List<Object>> together(SqlConnection conn, List<Asked<?>> group) {
    Future<?> begun = Future.all(conn.query("BEGIN").execute(),
        conn.query("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'").execute());
    List<PgTx> txs = new ArrayList<>(group.size());
    List<Future<Object>> works = new ArrayList<>(group.size());
    for (Asked<?> asked : group) {
      works.add(start(asked, conn, txs));
    }
    return Future.join(works).transform(ar -> {
      // A work that recovered from a refused statement would otherwise "commit" a transaction
      // PostgreSQL has already aborted (it answers COMMIT with a rollback, not an error).
      boolean refused = txs.stream().anyMatch(PgTx::anyStatementFailed);
      if (ar.succeeded() && begun.succeeded() && !refused) {
        List<Object> results = new ArrayList<>(works.size());
        works.forEach(work -> results.add(work.result()));
        return conn.query("COMMIT").execute().map(results);
      }
      Throwable cause = ar.failed() ? ar.cause()
          : begun.failed() ? begun.cause() : new IllegalStateException("a statement of the group was refused");
      return conn.query("ROLLBACK").execute().transform(v -> Future.failedFuture(cause));
    });
  }

  /**
   * Runs {@code asked}'s work on its caller's context (a worker's, for a handler: a handler's own
   * computing never runs on an event loop) with a {@link Tx} on {@code conn} that answers there
   * too; its outcome on the lane.
   */
  private Future<Object> start(Asked<?> asked, SqlConnection conn, List<PgTx> txs) {
    Context caller = asked.context() != null ? asked.context() : lane;
    PgTx tx = new PgTx(conn, caller);
    txs.add(tx);
    Promise<Object> outcome = lane.promise();
    caller.runOnContext(v -> {
      Future<?> work;
      try {
        work = asked.work().apply(tx);
      } catch (RuntimeException e) {
        work = Future.failedFuture(e);
      }
      work.onComplete(ar -> {
        if (ar.succeeded()) {
          outcome.complete(ar.result());
        } else {
          outcome.fail(ar.cause());
        }
      });
    });
    return outcome.future();
  }

  /** After a failed group: each work in a transaction of its own, all at once. */
  private Future<?> alone(List<Asked<?>> group) {
    List<Future<?>> outcomes = new ArrayList<>(group.size());
    for (Asked<?> asked : group) {
      outcomes.add(runAlone(asked));
    }
    return Future.join(outcomes);
  }

  private Future<Object> runAlone(Asked<?> asked) {
    return db.withTransaction(timeoutMillis, "transaction", conn -> start(asked, conn, new ArrayList<>()))
        .onComplete(ar -> {
          Completions completions = new Completions();
          if (ar.succeeded()) {
            succeed(completions, asked, ar.result());
          } else {
            completions.fail(asked.promise(), asked.context(), ar.cause());
          }
          completions.flush();
        });
  }

  @SuppressWarnings("unchecked")
  private static <T> void succeed(Completions completions, Asked<T> asked, Object result) {
    completions.succeed(asked.promise(), asked.context(), (T) result);
  }

  /** Fails every transaction still waiting for a group: the store is closing. */
  void close() {
    Completions completions = new Completions();
    Asked<?> next;
    while ((next = queue.poll()) != null) {
      completions.fail(next.promise(), next.context(), new StorageUnavailableException("the store is closed", null));
    }
    completions.flush();
  }
}
