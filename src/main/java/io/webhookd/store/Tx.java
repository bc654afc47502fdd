package io.webhookd.store;

import io.vertx.core.Future;
import java.util.List;

/**
 * One database transaction, the same on every adapter, so that what happens to an event (its
 * effects and its own status change) is written once and commits or rolls back as one.
 *
 * <p>SQL is the dialect SQLite and PostgreSQL share: {@code ?} placeholders, {@code INSERT ... ON
 * CONFLICT}, {@code RETURNING}; times are epoch milliseconds, flags are integers. Parameters are
 * {@code String}, {@code Long}, {@code Integer}, {@code byte[]} or null. Work given a {@code Tx}
 * must use only it: no other I/O, no timers.
 */
public interface Tx {

  /** Rows with lower-case column names. */
  Future<List<SqlRow>> query(String sql, Object... params);

  /** The number of rows changed. */
  Future<Integer> update(String sql, Object... params);
}
