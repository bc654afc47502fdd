package io.webhookd.observe;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.webhookd.store.InboxStore;
import io.webhookd.store.SqlRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the backlog from the store every few seconds (the same figures for every instance of a
 * shared store): events waiting, dead letters open, and the age of the oldest waiting event. The
 * gauges and readiness use the last reading, so neither a scrape nor a probe touches the store.
 */
public final class InboxStats {

  private static final Logger LOG = LoggerFactory.getLogger(InboxStats.class);

  /** One reading; {@code oldestPendingAt} is null when nothing waits. */
  public record Reading(long queueSize, long deadLetters, Long oldestPendingAt, long readAt) {
  }

  private final InboxStore store;
  private final Metrics metrics;
  private volatile Reading last;

  public InboxStats(InboxStore store, Metrics metrics) {
    this.store = store;
    this.metrics = metrics;
  }

  public void start(Vertx vertx, long everyMillis) {
    refresh();
    vertx.setPeriodic(everyMillis, id -> refresh());
  }

  /** The last reading, or null before the first one succeeded. */
  public Reading last() {
    return last;
  }

  public Future<Reading> refresh() {
    // One condition per status, so that each reads only its partial index (the backlog), never the
    // whole table: on SQLite this runs on the writer thread, between commits.
    return store.inTransaction(tx -> tx.query("""
            SELECT
              (SELECT COUNT(*) FROM inbox_events WHERE status = 'pending')
                + (SELECT COUNT(*) FROM inbox_events WHERE status = 'processing') AS queue_size,
              (SELECT COUNT(*) FROM dead_letters WHERE resolved_at IS NULL) AS dead_letters,
              (SELECT MIN(received_at) FROM (
                 SELECT received_at FROM inbox_events WHERE status = 'pending'
                 UNION ALL SELECT received_at FROM inbox_events WHERE status = 'processing') AS backlog) AS oldest""")
        .map(rows -> {
          SqlRow row = rows.get(0);
          return new Reading(row.longValue("queue_size"), row.longValue("dead_letters"), row.longValue("oldest"),
              System.currentTimeMillis());
        }))
        .onSuccess(reading -> {
          last = reading;
          metrics.queueSize(reading.queueSize());
          metrics.dlqSize(reading.deadLetters());
          metrics.oldestPendingSeconds(reading.oldestPendingAt() == null ? 0
              : Math.max(0, (reading.readAt() - reading.oldestPendingAt()) / 1000));
        })
        .onFailure(e -> LOG.debug("reading the backlog failed: {}", e.getMessage()));
  }
}
