package io.webhookd.store.postgres;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionRollbackException;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.Connection;
import io.vertx.sqlclient.internal.SqlConnectionInternal;
import io.webhookd.store.StorageUnavailableException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs work on a pooled connection within a deadline, and gives the connection up when the deadline
 * passes. A connection whose network path froze (packets silently dropped) never answers nor closes:
 * returned to the pool it would hang the next operation too, and kept out of it, the pool would run
 * dry, so the service would stay unavailable until restarted. Closing its socket fails whatever is
 * queued on it, the pool forgets it and opens a fresh one, and PostgreSQL rolls back whatever
 * transaction it had open once it notices the connection is gone.
 */
final class PgBounded {

  private static final Logger LOG = LoggerFactory.getLogger(PgBounded.class);

  private final Vertx vertx;
  private final Pool pool;
  private final AtomicLong givenUp = new AtomicLong();

  PgBounded(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  /** Connections closed because an operation on them overran its deadline. */
  long givenUp() {
    return givenUp.get();
  }

  /** {@code work} on one connection, autocommit. */
  <T> Future<T> withConnection(long timeoutMillis, String what, Function<SqlConnection, Future<T>> work) {
    return run(timeoutMillis, what, work, false);
  }

  /**
   * {@code work} in one transaction: committed when its future succeeds, rolled back when it fails.
   * A transaction that overran its deadline fails even if its commit lands after all: callers treat
   * it as not done, which the store's idempotent writes and claim checks make safe.
   */
  <T> Future<T> withTransaction(long timeoutMillis, String what, Function<SqlConnection, Future<T>> work) {
    return run(timeoutMillis, what, work, true);
  }

  private <T> Future<T> run(long timeoutMillis, String what, Function<SqlConnection, Future<T>> work,
      boolean transaction) {
    // The result is delivered on the caller's context, as the pool's own futures are.
    Attempt<T> attempt = new Attempt<>(((ContextInternal) vertx.getOrCreateContext()).promise(), what, timeoutMillis);
    attempt.timer = vertx.setTimer(timeoutMillis, id -> attempt.expire());
    pool.getConnection().onComplete(ar -> {
      if (ar.failed()) {
        attempt.finish(null, ar.cause());
        return;
      }
      SqlConnection conn = ar.result();
      if (!attempt.hold(conn)) {
        conn.close(); // the deadline passed while waiting for it: unused, it goes back to the pool
        return;
      }
      Future<T> done;
      try {
        done = transaction ? inTransaction(conn, work) : work.apply(conn);
      } catch (RuntimeException e) {
        done = Future.failedFuture(e);
      }
      // Also after a give-up: the pool has already dropped the closed connection; this ends the lease.
      done.onComplete(r -> {
        attempt.finish(r.result(), r.cause());
        conn.close();
      });
    });
    return attempt.result.future();
  }

  private static <T> Future<T> inTransaction(SqlConnection conn, Function<SqlConnection, Future<T>> work) {
    // BEGIN goes out together with the work's first statement instead of a round trip ahead of it:
    // a connection runs its commands in order, and the work's statements already belong to the
    // transaction. BEGIN only fails with the connection, and then so does the work.
    Future<Transaction> begun = conn.begin();
    Transaction tx = conn.transaction();
    Future<T> done;
    try {
      done = work.apply(conn);
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    Future<T> worked = done;
    return begun.compose(t -> worked).compose(
        res -> tx.commit().map(res),
        err -> err instanceof TransactionRollbackException
            ? Future.failedFuture(err)
            : tx.rollback().transform(v -> Future.failedFuture(err)));
  }

  /** One operation: its result, its deadline and the connection it holds. */
  private final class Attempt<T> {
    final Promise<T> result;
    final String what;
    final long timeoutMillis;
    long timer;
    private SqlConnection held;
    private boolean expired;

    Attempt(Promise<T> result, String what, long timeoutMillis) {
      this.result = result;
      this.what = what;
      this.timeoutMillis = timeoutMillis;
    }

    synchronized boolean hold(SqlConnection conn) {
      if (expired) {
        return false;
      }
      held = conn;
      return true;
    }

    void finish(T value, Throwable failure) {
      vertx.cancelTimer(timer);
      if (failure == null) {
        result.tryComplete(value);
      } else {
        result.tryFail(failure);
      }
    }

    void expire() {
      SqlConnection conn;
      synchronized (this) {
        if (result.future().isComplete()) {
          return;
        }
        expired = true;
        conn = held;
      }
      result.tryFail(new StorageUnavailableException(
          "PostgreSQL did not answer within " + timeoutMillis + " ms (" + what + ")", null));
      if (conn != null) {
        giveUp(conn);
      }
    }
  }

  /** Closes the connection's socket at once: no goodbye to a server that cannot hear it. */
  private void giveUp(SqlConnection conn) {
    givenUp.incrementAndGet();
    Connection pooled = conn instanceof SqlConnectionInternal internal ? internal.unwrap() : null;
    Connection physical = pooled == null ? null : pooled.unwrap();
    if (physical instanceof SocketConnectionBase socket) {
      LOG.warn("giving up a PostgreSQL connection that did not answer in time");
      // From the head of the pipeline: a close through the Vert.x handler first flushes, which a
      // frozen path never lets finish; the pool forgets the connection once it is closed.
      Channel channel = socket.socket().channelHandlerContext().channel();
      ChannelHandlerContext head = channel.pipeline().firstContext();
      if (head != null) {
        head.close();
      } else {
        channel.close();
      }
    } else {
      LOG.error("cannot close a hung PostgreSQL connection of type {}; it stays in the pool",
          physical == null ? conn.getClass().getName() : physical.getClass().getName());
    }
  }
}
