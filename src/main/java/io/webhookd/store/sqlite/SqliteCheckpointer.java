package io.webhookd.store.sqlite;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies committed pages from the WAL into the database file on a connection and thread of its
 * own. Left to SQLite's automatic checkpoint, the writer would copy thousands of pages inside a
 * commit now and then, and every acknowledgement waiting on that commit would wait for it too. A
 * passive checkpoint never blocks the writer: it copies what no reader still needs and stops.
 *
 * <p>But SQLite starts the WAL over only when a write transaction begins with every frame copied,
 * and under a steady stream of commits a checkpoint on another connection never sees the last
 * frame: the writer has always added more meanwhile. The WAL would grow for as long as the load
 * lasts (a gigabyte in a few minutes at a few thousand webhooks/s), every append extending the
 * file, and a restart after a crash would read all of it. So once the passes here have copied all
 * but a short tail, the writer copies that tail itself between two batches, where nothing can be
 * added to it, and its next transaction starts the WAL over, in place.
 *
 * <p>A round's passes go on until the tail left for the writer is a few dozen pages: the writer's
 * share ends with a sync of the database file, which under load waits behind the other writes to
 * the disk and grows with the pages the writer copied (a median of 12 ms with up to 2,048 of them,
 * 4-5 ms with a few dozen, 0.3 ms on an idle disk). Passes on this thread cost the writer nothing.
 */
final class SqliteCheckpointer {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteCheckpointer.class);
  /** A pass that copied more frames than this is followed by another, so that the writer's share stays short. */
  private static final int TAIL_FOR_THE_WRITER = 64;
  /** Passes in a round at most; after them the writer copies what is left however long it is. */
  private static final int CATCH_UP_PASSES = 12;
  private static final long WRITER_PASS_TIMEOUT_SECONDS = 30;

  /** What a checkpoint reported: frames in the WAL and frames copied from it (both -1 when busy). */
  private record Pass(int walFrames, int copied) {
  }

  private final Connection connection;
  private final SqliteWriter writer;
  private final WalSyncer.Force databaseFile;
  private final long intervalMillis;
  private final Thread thread;
  private final CountDownLatch stop = new CountDownLatch(1);
  /** Frames in the WAL at the last pass: what has been written since it last started over. */
  private volatile int walFrames;

  SqliteCheckpointer(Connection connection, SqliteWriter writer, WalSyncer.Force databaseFile, Duration interval) {
    this.connection = connection;
    this.writer = writer;
    this.databaseFile = databaseFile;
    this.intervalMillis = Math.max(1, interval.toMillis());
    this.thread = new Thread(this::loop, "sqlite-checkpt");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Frames in the WAL as of the last pass (it starts over after the writer's). */
  int walFrames() {
    return walFrames;
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
    Pass finished = null;
    try (Statement statement = connection.createStatement()) {
      while (!stop.await(intervalMillis, TimeUnit.MILLISECONDS)) {
        // A pass copies the frames that were there when it began; the next copies those written
        // meanwhile. Passes go on while each still had much to copy, so the writer's share is short.
        Pass pass = checkpoint(statement);
        int copiedBefore = 0;
        for (int i = 1; i < CATCH_UP_PASSES && pass != null && pass.copied() - copiedBefore > TAIL_FOR_THE_WRITER;
            i++) {
          copiedBefore = pass.copied();
          pass = checkpoint(statement);
        }
        // An empty WAL has started over; one unchanged since the writer's last pass has nothing new.
        if (pass != null && pass.walFrames() > 0 && !pass.equals(finished)) {
          syncDatabaseFile();
          finished = finishOnTheWriter();
        }
      }
    } catch (SQLException e) {
      LOG.warn("the SQLite checkpointer stopped: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try (Connection closing = connection; WalSyncer.Force file = databaseFile) {
        LOG.debug("the SQLite checkpointer stops");
      } catch (SQLException | IOException e) {
        LOG.debug("closing the checkpointer's connection or file failed: {}", e.getMessage());
      }
    }
  }

  /**
   * SQLite syncs the database file only when a checkpoint copies the whole WAL, which here is the
   * writer's pass: everything these passes copied would be synced on the writer's thread, tens of
   * milliseconds of a stalled writer on a slow disk. Synced here first, the writer's sync covers
   * only its own few pages. (An optimisation only: SQLite's own syncs keep the file consistent.)
   */
  private void syncDatabaseFile() {
    try {
      databaseFile.force();
    } catch (IOException e) {
      LOG.debug("syncing the database file failed, the writer's checkpoint will: {}", e.getMessage());
    }
  }

  /** The writer's own pass, between two of its batches: it copies what is left, and nothing is added meanwhile. */
  private Pass finishOnTheWriter() throws InterruptedException {
    try {
      Pass last = writer.submitAlone(session -> {
        try (ResultSet rs = session.prepare("PRAGMA wal_checkpoint(PASSIVE)").executeQuery()) {
          return pass(rs);
        }
      }).toCompletionStage().toCompletableFuture().get(WRITER_PASS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      LOG.trace("checkpoint finished by the writer: {}", last);
      seen(last);
      return last;
    } catch (ExecutionException e) {
      // Closed, or a reader still on an old snapshot: the next round tries again.
      LOG.debug("the writer's checkpoint did not run: {}", e.getCause().getMessage());
    } catch (TimeoutException e) {
      LOG.warn("the writer did not get to its checkpoint within {} s", WRITER_PASS_TIMEOUT_SECONDS);
    }
    return null;
  }

  private Pass checkpoint(Statement statement) {
    try (ResultSet rs = statement.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      Pass pass = pass(rs);
      LOG.trace("checkpoint: {}", pass);
      seen(pass);
      return pass;
    } catch (SQLException e) {
      // Busy or locked now and then is normal; the next round copies what this one could not.
      LOG.debug("checkpoint skipped: {}", e.getMessage());
      return null;
    }
  }

  private void seen(Pass pass) {
    if (pass.walFrames() >= 0) {
      walFrames = pass.walFrames();
    }
  }

  private static Pass pass(ResultSet rs) throws SQLException {
    return rs.next() ? new Pass(rs.getInt(2), rs.getInt(3)) : new Pass(-1, -1);
  }
}
