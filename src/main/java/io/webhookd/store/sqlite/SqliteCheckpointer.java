package io.webhookd.store.sqlite;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies committed pages from the WAL into the database file on a connection and thread of its
 * own. Left to SQLite's automatic checkpoint, the writer would copy thousands of pages inside a
 * commit now and then, and every acknowledgement waiting on that commit would wait for it too. A
 * passive checkpoint never blocks the writer: it copies what no reader still needs and stops.
 */
final class SqliteCheckpointer {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteCheckpointer.class);

  private final Connection connection;
  private final long intervalMillis;
  private final Thread thread;
  private final CountDownLatch stop = new CountDownLatch(1);

  SqliteCheckpointer(Connection connection, Duration interval) {
    this.connection = connection;
    this.intervalMillis = Math.max(1, interval.toMillis());
    this.thread = new Thread(this::loop, "sqlite-checkpt");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Stops checkpointing and closes its connection; the writer's close does the last checkpoint. */
  void close() {
    stop.countDown();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void loop() {
    try (Statement statement = connection.createStatement()) {
      while (!stop.await(intervalMillis, TimeUnit.MILLISECONDS)) {
        checkpoint(statement);
      }
    } catch (SQLException e) {
      LOG.warn("the SQLite checkpointer stopped: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        connection.close();
      } catch (SQLException e) {
        LOG.debug("closing the checkpointer's connection failed: {}", e.getMessage());
      }
    }
  }

  private static void checkpoint(Statement statement) {
    try (ResultSet rs = statement.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      if (rs.next() && LOG.isTraceEnabled()) {
        LOG.trace("checkpoint: {} pages in the WAL, {} copied", rs.getInt(2), rs.getInt(3));
      }
    } catch (SQLException e) {
      // Busy or locked now and then is normal; the next round copies what this one could not.
      LOG.debug("checkpoint skipped: {}", e.getMessage());
    }
  }
}
