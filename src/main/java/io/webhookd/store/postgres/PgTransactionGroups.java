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
 * instance's group gives up after {@link PgSharedTransaction#LOCK_TIMEOUT} and runs its works
 * alone.
 */
final class PgTransactionGroups {

  /** Larger groups add latency to every event in them and gain little: the round trips are shared. */
  private static final int MAX_GROUP = 64;

  private record Asked<T>(Function<Tx, Future<T>> work, Promise<T> promise, Context context) {
  }

  private final PgBounded db;
  private final long timeoutMillis;
  /**
   * Where groups are formed, begun and ended: one event loop, so that their state needs no lock.
   * The works themselves run on their callers' contexts.
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
    if (group.size() == 1) {
      runAlone(group.get(0)).onComplete(v -> finished());
      return;
    }
    db.withConnection(timeoutMillis, "transactions", conn -> together(conn, group)).onComplete(ar -> {
      if (ar.failed() && !(ar.cause() instanceof StorageUnavailableException)) {
        alone(group).onComplete(v -> finished());
        return;
      }
      // Committed together; or PostgreSQL did not answer, and would not answer each work alone either.
      Completions completions = new Completions();
      for (int i = 0; i < group.size(); i++) {
        complete(completions, group.get(i), ar.succeeded() ? ar.result().get(i) : null, ar.cause());
      }
      completions.flush();
      finished();
    });
  }

  private void finished() {
    running = false;
    startGroup();
  }

  /** The group's works in one transaction, committed once all of them succeeded. */
  private Future<List<Object>> together(SqlConnection conn, List<Asked<?>> group) {
    PgSharedTransaction shared = PgSharedTransaction.begin(conn, true);
    List<PgTx> txs = new ArrayList<>(group.size());
    List<Future<Object>> works = new ArrayList<>(group.size());
    for (Asked<?> asked : group) {
      PgTx tx = txFor(asked, conn);
      txs.add(tx);
      works.add(start(asked, tx));
    }
    return shared.end(Future.join(works).map(v -> works.stream().map(Future::result).toList()), txs);
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
    return db.withTransaction(timeoutMillis, "transaction", conn -> start(asked, txFor(asked, conn)))
        .onComplete(ar -> {
          Completions completions = new Completions();
          complete(completions, asked, ar.result(), ar.cause());
          completions.flush();
        });
  }

  /** A {@link Tx} on {@code conn} that answers where {@code asked}'s work runs. */
  private PgTx txFor(Asked<?> asked, SqlConnection conn) {
    return new PgTx(conn, callerOf(asked));
  }

  /**
   * Runs {@code asked}'s work on its caller's context (a worker's, for a handler: a handler's own
   * computing never runs on an event loop); its outcome on the lane.
   */
  private Future<Object> start(Asked<?> asked, PgTx tx) {
    Promise<Object> outcome = lane.promise();
    callerOf(asked).runOnContext(v -> {
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

  private Context callerOf(Asked<?> asked) {
    return asked.context() != null ? asked.context() : lane;
  }

  /** Succeeds with {@code result} when {@code failure} is null, else fails. */
  @SuppressWarnings("unchecked")
  private static <T> void complete(Completions completions, Asked<T> asked, Object result, Throwable failure) {
    if (failure == null) {
      completions.succeed(asked.promise(), asked.context(), (T) result);
    } else {
      completions.fail(asked.promise(), asked.context(), failure);
    }
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
