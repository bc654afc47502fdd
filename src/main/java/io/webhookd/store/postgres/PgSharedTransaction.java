package io.webhookd.store.postgres;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.List;

/**
 * One database transaction that several works share on one connection, begun and ended by hand: a
 * connection runs its commands in order, so BEGIN goes out ahead of the works' first statements in
 * the same round trip, and the works' statements are pipelined. It commits only if every work
 * succeeded and PostgreSQL refused none of their statements: a work that recovered from a refused
 * statement would otherwise "commit" a transaction PostgreSQL has already aborted (it answers
 * COMMIT with a rollback, not an error).
 */
final class PgSharedTransaction {

  /**
   * How long a shared transaction waits for a row lock before it gives up (and its works are run
   * some other way), rather than waiting for PostgreSQL's deadlock detection to pick a victim.
   */
  static final String LOCK_TIMEOUT = "200ms";

  private final SqlConnection conn;
  private final Future<?> begun;

  private PgSharedTransaction(SqlConnection conn, Future<?> begun) {
    this.conn = conn;
    this.begun = begun;
  }

  /** @param giveUpContendedLocks whether a lock wait fails after {@link #LOCK_TIMEOUT} */
  static PgSharedTransaction begin(SqlConnection conn, boolean giveUpContendedLocks) {
    Future<?> begun = conn.query("BEGIN").execute();
    if (giveUpContendedLocks) {
      begun = Future.all(begun, conn.query("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'").execute());
    }
    return new PgSharedTransaction(conn, begun);
  }

  /**
   * COMMIT once {@code outcome} succeeded and no statement of {@code txs} was refused, with the
   * outcome; otherwise ROLLBACK, failing with the first cause. From then on {@code txs} send
   * nothing: a work still under way (given up on) cannot run a statement outside the transaction.
   * The works must use them on this connection's caller's thread, where COMMIT and ROLLBACK are
   * sent, or be complete by then.
   */
  <T> Future<T> end(Future<T> outcome, List<PgTx> txs) {
    return Future.join(begun, outcome).transform(ar -> {
      txs.forEach(PgTx::end);
      boolean refused = txs.stream().anyMatch(PgTx::anyStatementFailed);
      if (ar.succeeded() && !refused) {
        return conn.query("COMMIT").execute().map(outcome.result());
      }
      Throwable cause = outcome.failed() ? outcome.cause()
          : begun.failed() ? begun.cause() : new IllegalStateException("a statement of the transaction was refused");
      return conn.query("ROLLBACK").execute().transform(v -> Future.failedFuture(cause));
    });
  }
}
