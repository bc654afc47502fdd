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
 * for the batch instead of one per transaction. A transaction alone needs no savepoint: its
 * failure fails the batch, which rolls back.
 */
final class PgSavepointBatch implements PgBatchWriter.BatchStatement<Function<Tx, Future<Object>>, Object> {

  /**
   * At most this many transactions share a commit. Each one that writes takes a subtransaction id,
   * and PostgreSQL caches only 64 of them per transaction in shared memory: beyond that, every
   * snapshot taken while the batch is open has to look subtransactions up on disk.
   */
  static final int MAX_TRANSACTIONS = 48;

  private static final String MARK = "SAVEPOINT tx";
  private static final String RELEASE_AND_MARK = "RELEASE SAVEPOINT tx; SAVEPOINT tx";
  private static final String UNDO = "ROLLBACK TO SAVEPOINT tx";

  @Override
  public Future<List<AsyncResult<Object>>> write(SqlConnection conn, List<Function<Tx, Future<Object>>> batch) {
    Tx tx = new PgTx(conn);
    if (batch.size() == 1) {
      return run(batch.get(0), tx).map(result -> List.of(Future.succeededFuture(result)));
    }
    return new Run(conn, tx, batch).from(0, false);
  }

  private static Future<Object> run(Function<Tx, Future<Object>> work, Tx tx) {
    try {
      return work.apply(tx);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** One batch on its way through its transactions. */
  private static final class Run {
    private final SqlConnection conn;
    private final Tx tx;
    private final List<Function<Tx, Future<Object>>> batch;
    private final List<AsyncResult<Object>> outcomes;

    Run(SqlConnection conn, Tx tx, List<Function<Tx, Future<Object>>> batch) {
      this.conn = conn;
      this.tx = tx;
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
      // The savepoint goes out together with the work's first statement rather than a round trip
      // ahead of it: a connection runs its commands in order.
      Future<?> mark = marked ? Future.succeededFuture()
          : conn.query(index == 0 ? MARK : RELEASE_AND_MARK).execute();
      Future<Object> worked = run(batch.get(index), tx);
      return mark.compose(m -> worked.transform(done -> {
        if (done.succeeded()) {
          outcomes.add(done);
          return from(index + 1, false);
        }
        // Queued behind whatever the work still had in flight, so that is undone too.
        return conn.query(UNDO).execute().compose(undone -> {
          outcomes.add(done);
          return from(index + 1, true);
        });
      }));
    }
  }
}
