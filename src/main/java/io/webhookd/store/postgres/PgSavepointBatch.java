package io.webhookd.store.postgres;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Several transactions run as one: one after another on one connection inside the batch's
 * transaction, each under a savepoint, so that a transaction whose work fails is undone alone
 * (rolled back to its savepoint) while the others commit together. One commit, and one WAL flush,
 * for the batch instead of one per transaction.
 *
 * <p>BEGIN and COMMIT are sent as plain statements, not through the client's transaction API,
 * which rolls the whole transaction back as soon as any statement fails: here a failed statement
 * is undone with its own transaction's savepoint. A transaction's work that succeeds although one
 * of its statements failed (it recovered from the failure) is failed all the same, since
 * PostgreSQL ignored everything after that statement.
 */
final class PgSavepointBatch implements PgBatchWriter.BatchStatement<Function<Tx, Future<Object>>, Object> {

  /**
   * At most this many transactions share a commit. Each one that writes takes a subtransaction id,
   * and PostgreSQL caches only 64 of them per transaction in shared memory: beyond that, every
   * snapshot taken while the batch is open has to look subtransactions up on disk.
   */
  static final int MAX_TRANSACTIONS = 48;

  /**
   * In a batch, a transaction that would wait for a row another transaction holds gives up after
   * this long, and runs again on its own once the batch has ended. Waiting, it would hold every
   * lock its batch took meanwhile: batches that share a row (events of different conversations
   * about one message or one contact) would queue behind each other, and deadlock in turns, each
   * deadlock costing PostgreSQL's deadlock timeout (a second) to break.
   */
  private static final String BEGIN_WITH_LOCK_TIMEOUT = "BEGIN; SET LOCAL lock_timeout = '100ms'";
  private static final String MARK = "SAVEPOINT tx";
  private static final String RELEASE_AND_MARK = "RELEASE SAVEPOINT tx; SAVEPOINT tx";
  private static final String UNDO = "ROLLBACK TO SAVEPOINT tx";

  @Override
  public Future<List<AsyncResult<Object>>> write(SqlConnection conn, List<Function<Tx, Future<Object>>> batch) {
    // BEGIN goes out together with the first statement rather than a round trip ahead of it.
    Future<?> begun = conn.query(batch.size() == 1 ? "BEGIN" : BEGIN_WITH_LOCK_TIMEOUT).execute();
    Future<List<AsyncResult<Object>>> ran = new Run(conn, batch).from(0, false);
    return begun.compose(b -> ran).transform(done -> done.succeeded()
        ? conn.query("COMMIT").execute().map(done.result())
        : conn.query("ROLLBACK").execute().transform(r -> Future.failedFuture(done.cause())));
  }

  /** One batch on its way through its transactions. */
  private static final class Run {
    private final SqlConnection conn;
    private final List<Function<Tx, Future<Object>>> batch;
    private final List<AsyncResult<Object>> outcomes;

    Run(SqlConnection conn, List<Function<Tx, Future<Object>>> batch) {
      this.conn = conn;
      this.batch = batch;
      this.outcomes = new ArrayList<>(batch.size());
    }

    /**
     * @param marked whether the savepoint already marks the current state (after an undo), so
     *               that the next transaction can start without a new one
     */
    Future<List<AsyncResult<Object>>> from(int index, boolean marked) {
      if (index == batch.size()) {
        return Future.succeededFuture(outcomes);
      }
      boolean alone = batch.size() == 1;
      // The savepoint goes out together with the work's first statement rather than a round trip
      // ahead of it: a connection runs its commands in order. A transaction alone needs none: its
      // failure fails the batch, which rolls back.
      Future<?> mark = marked || alone ? Future.succeededFuture()
          : conn.query(index == 0 ? MARK : RELEASE_AND_MARK).execute();
      PgTx tx = new PgTx(conn);
      Future<Object> worked = run(batch.get(index), tx);
      return mark.compose(m -> worked.transform(done -> {
        Throwable failure = done.failed() ? done.cause() : tx.failure();
        if (failure == null) {
          outcomes.add(done);
          return from(index + 1, false);
        }
        if (alone) {
          return Future.failedFuture(failure);
        }
        // Queued behind whatever the work still had in flight, so that is undone too.
        return conn.query(UNDO).execute().compose(undone -> {
          outcomes.add(Future.failedFuture(failure));
          return from(index + 1, true);
        });
      }));
    }

    private static Future<Object> run(Function<Tx, Future<Object>> work, Tx tx) {
      try {
        return work.apply(tx);
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
  }
}
