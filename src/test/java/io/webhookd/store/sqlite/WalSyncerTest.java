package io.webhookd.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * Durable before answered: a commit's answer waits for a WAL sync that began after the commit, and
 * a sync that fails turns the answers into storage failures.
 */
class WalSyncerTest {

  private static final long WAIT_SECONDS = 10;

  /** A disk whose syncs the test lets through one at a time. */
  private static final class GatedDisk implements WalSyncer.Force {
    final Semaphore allowed = new Semaphore(0);
    final CountDownLatch started = new CountDownLatch(1);
    final AtomicInteger completed = new AtomicInteger();
    volatile boolean failNext;
    volatile RuntimeException throwNext;

    @Override
    public void force() throws IOException {
      started.countDown();
      try {
        if (!allowed.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
          throw new IOException("the test never let this sync through");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
      if (failNext) {
        failNext = false;
        throw new IOException("EIO");
      }
      RuntimeException unchecked = throwNext;
      if (unchecked != null) {
        throwNext = null;
        throw unchecked;
      }
      completed.incrementAndGet();
    }
  }

  private final GatedDisk disk = new GatedDisk();
  private final WalSyncer syncer = new WalSyncer(disk);

  @TempDir
  Path dir;

  @AfterEach
  void stop() {
    disk.allowed.release(100);
    syncer.close();
  }

  @Test
  void anAnswerWaitsForTheSyncAfterItsCommit() throws Exception {
    syncer.start();
    CompletableFuture<Integer> answered = new CompletableFuture<>();

    syncer.afterCommit(() -> answered.complete(disk.completed.get()), answered::completeExceptionally);

    assertThat(disk.started.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("a sync began").isTrue();
    assertThat(answered).as("answered while its sync is still running").isNotDone();
    disk.allowed.release();
    assertThat(answered.get(WAIT_SECONDS, TimeUnit.SECONDS)).as("syncs finished when answered").isEqualTo(1);
  }

  @Test
  void aCommitMadeDuringASyncWaitsForTheNextOne() throws Exception {
    syncer.start();
    CompletableFuture<Integer> first = new CompletableFuture<>();
    CompletableFuture<Integer> second = new CompletableFuture<>();
    syncer.afterCommit(() -> first.complete(disk.completed.get()), first::completeExceptionally);
    assertThat(disk.started.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

    // Committed after the running sync began: that sync may not cover it.
    syncer.afterCommit(() -> second.complete(disk.completed.get()), second::completeExceptionally);
    disk.allowed.release();

    assertThat(first.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(second).as("answered by the sync that began before it was committed").isNotDone();
    disk.allowed.release();
    assertThat(second.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(2);
  }

  @Test
  void aFailedSyncFailsItsAnswersAndTheNextSyncServesLaterCommits() throws Exception {
    syncer.start();
    disk.failNext = true;
    CompletableFuture<Void> lost = new CompletableFuture<>();
    syncer.afterCommit(() -> lost.complete(null), lost::completeExceptionally);
    disk.allowed.release();

    assertThat(lost).failsWithin(Duration.ofSeconds(WAIT_SECONDS)).withThrowableThat()
        .havingRootCause().isInstanceOf(IOException.class).withMessage("EIO");

    CompletableFuture<Void> later = new CompletableFuture<>();
    syncer.afterCommit(() -> later.complete(null), later::completeExceptionally);
    disk.allowed.release();
    assertThat(later).succeedsWithin(Duration.ofSeconds(WAIT_SECONDS));
  }

  @Test
  void anUncheckedFailureOfTheSyncFailsItsAnswersAndTheSyncerGoesOn() throws Exception {
    syncer.start();
    disk.throwNext = new IllegalStateException("channel gone");
    CompletableFuture<Void> lost = new CompletableFuture<>();
    syncer.afterCommit(() -> lost.complete(null), lost::completeExceptionally);
    disk.allowed.release();

    assertThat(lost).failsWithin(Duration.ofSeconds(WAIT_SECONDS)).withThrowableThat()
        .havingRootCause().isInstanceOf(IllegalStateException.class);

    CompletableFuture<Void> later = new CompletableFuture<>();
    syncer.afterCommit(() -> later.complete(null), later::completeExceptionally);
    disk.allowed.release();
    assertThat(later).succeedsWithin(Duration.ofSeconds(WAIT_SECONDS));
  }

  @Test
  void closeSyncsAndAnswersWhatWasHandedOver() {
    syncer.start();
    CompletableFuture<Void> answered = new CompletableFuture<>();
    syncer.afterCommit(() -> answered.complete(null), answered::completeExceptionally);
    disk.allowed.release(10);

    syncer.close();

    assertThat(answered).isCompleted();
    assertThat(disk.completed.get()).isPositive();
  }

  /**
   * Through the writer, on a real database: the row is committed (another connection sees it) while
   * its task is still unanswered, and the answer comes once the WAL sync returns.
   */
  @Test
  void theWriterAnswersACommittedTaskOnlyOnceTheWalIsSynced() throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("w.db");
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    try (Connection setup = config.createConnection(url); Statement statement = setup.createStatement()) {
      statement.execute("CREATE TABLE t (v TEXT)");
    }
    SqliteWriter writer = new SqliteWriter(config.createConnection(url), syncer, 16, Duration.ZERO, 100);
    writer.start();
    try {
      Future<Integer> stored = writer.submit(session -> {
        session.prepare("INSERT INTO t (v) VALUES ('x')").execute();
        return 1;
      });

      assertThat(disk.started.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("a sync began").isTrue();
      try (Connection reader = DriverManager.getConnection(url); Statement statement = reader.createStatement();
          ResultSet rs = statement.executeQuery("SELECT COUNT(*) FROM t")) {
        assertThat(rs.getInt(1)).as("committed").isEqualTo(1);
      }
      assertThat(stored.isComplete()).as("answered before the WAL was synced").isFalse();

      disk.allowed.release();
      assertThat(stored.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
    } finally {
      disk.allowed.release(100);
      writer.close().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
