package io.webhookd.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.webhookd.config.Settings;
import io.webhookd.config.Settings.SqliteSynchronous;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.sqlite.SqliteInboxStore;
import io.webhookd.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link InboxStoreContract} on the embedded SQLite adapter, a real file in a temporary
 * directory; plus what only SQLite does: one process owns the file, so a reopen is a restart.
 */
class SqliteInboxStoreTest extends InboxStoreContract {

  @TempDir
  Path dataDir;

  @Override
  protected InboxStore openStore(Vertx vertx, Settings.Store settings) throws Exception {
    return SqliteInboxStore.open(dataDir, settings, OWNER);
  }

  @Override
  protected Connection jdbc() throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve(SqliteInboxStore.FILE_NAME));
  }

  private void reopen() throws Exception {
    closeStore();
    useStore(SqliteInboxStore.open(dataDir, settings, OWNER));
  }

  @Test
  void theShippedDefaultsCommitWithSynchronousFull() {
    assertThat(settings.sqliteSynchronous()).isEqualTo(SqliteSynchronous.FULL);
  }

  /**
   * The writer tells where an acknowledgement's time goes: every write's wait for its batch, every
   * batch's run to its commit, and every commit's sync, each one before its writes are answered.
   */
  @Test
  void theWriterReportsEveryWritesWaitEveryBatchAndEverySync() throws Exception {
    RecordedTimings timings = new RecordedTimings();
    ((SqliteInboxStore) store).reportTimings(timings);
    call(() -> {
      List<Future<AppendResult>> appends = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        appends.add(store.append(event("EV-timed-" + i)));
      }
      return Future.all(appends);
    });

    assertThat(timings.waits).hasSize(40).allMatch(nanos -> nanos >= 0);
    assertThat(timings.batchTasks.stream().mapToInt(Integer::intValue).sum()).as("writes in the batches").isEqualTo(40);
    assertThat(timings.batchNanos).hasSameSizeAs(timings.batchTasks).allMatch(nanos -> nanos > 0);
    assertThat(timings.syncNanos).as("one sync per commit").hasSameSizeAs(timings.batchTasks)
        .allMatch(nanos -> nanos > 0);
  }

  /** What the writer reported, from its thread and the syncer's. */
  private static final class RecordedTimings implements BatchTimings {
    final Queue<Long> waits = new ConcurrentLinkedQueue<>();
    final Queue<Integer> batchTasks = new ConcurrentLinkedQueue<>();
    final Queue<Long> batchNanos = new ConcurrentLinkedQueue<>();
    final Queue<Long> syncNanos = new ConcurrentLinkedQueue<>();

    @Override
    public void waited(long nanos) {
      waits.add(nanos);
    }

    @Override
    public void committed(int tasks, long nanos) {
      batchTasks.add(tasks);
      batchNanos.add(nanos);
    }

    @Override
    public void synced(long nanos) {
      syncNanos.add(nanos);
    }
  }

  @Test
  void afterCloseEveryCallFailsWithStorageUnavailable() throws Exception {
    closeStore();

    assertThat(failure(() -> store.append(event("EV-late")))).isInstanceOf(StorageUnavailableException.class);
    assertThat(failure(() -> store.check())).isInstanceOf(StorageUnavailableException.class);
    assertThat(failure(() -> store.claim(OWNER, LEASE, 10))).isInstanceOf(StorageUnavailableException.class);
    assertThat(failure(() -> store.inTransaction(tx -> tx.query("SELECT 1"))))
        .isInstanceOf(StorageUnavailableException.class);
    assertThat(countDirect("SELECT COUNT(*) FROM inbox_events WHERE event_id = 'EV-late'")).isZero();
  }

  /**
   * Commits only append to the WAL; the checkpointer's own thread copies their pages into the
   * database file while the store is open, so that no commit has to.
   */
  @Test
  void committedPagesReachTheDatabaseFileWhileTheStoreIsOpen() throws Exception {
    Path file = dataDir.resolve(SqliteInboxStore.FILE_NAME);
    long before = Files.size(file);
    byte[] body = new byte[2_000];
    Arrays.fill(body, (byte) 'x');
    for (int i = 0; i < 200; i++) {
      String id = "EV-checkpointed-" + i;
      call(() -> store.append(event(id, body)));
    }
    // 200 rows of 2 kB: the file grows by at least 400 kB once they are checkpointed.
    Poll.until("the database file to grow by 400 kB", Duration.ofSeconds(15), () -> Files.size(file),
        size -> size >= before + 400_000);
  }

  /**
   * Under commits that never pause, the WAL still starts over in place rather than growing for as
   * long as the load lasts: a checkpoint on another connection alone never sees its last frame.
   * The WAL header's checkpoint sequence number counts the restarts; the size the store reports
   * (a metric) grows with the WAL and falls back with it.
   */
  @Test
  void theWalStartsOverWhileCommitsNeverPause() throws Exception {
    Path wal = dataDir.resolve(SqliteInboxStore.FILE_NAME + "-wal");
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong sent = new AtomicLong();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    SqliteInboxStore sqlite = (SqliteInboxStore) store;
    long underLoad;
    try {
      for (int i = 0; i < 16; i++) {
        appendWhile(running, sent, failed);
      }
      Poll.until("some commits in the WAL", Duration.ofSeconds(10), () -> Files.exists(wal) ? Files.size(wal) : 0L,
          size -> size > 0);
      int restarts = walRestarts(wal);
      Poll.until("the WAL to start over twice while appends go on", Duration.ofSeconds(20), () -> walRestarts(wal),
          n -> n >= restarts + 2);
      // The size the store reports (a metric) is what the stream wrote since the last restart.
      underLoad = Poll.until("the reported WAL size to show the stream", Duration.ofSeconds(10), sqlite::walBytes,
          bytes -> bytes > 256 * 1024);
    } finally {
      running.set(false);
    }
    assertThat(failed.get()).isNull();
    assertThat(sent.get()).isGreaterThan(1_000);

    // Once the stream has stopped, the next commits start the WAL over and it falls to a few pages.
    Poll.until("the reported WAL size to fall below a quarter of " + underLoad, Duration.ofSeconds(15), () -> {
      call(() -> store.append(event("EV-after-" + sent.incrementAndGet())));
      return sqlite.walBytes();
    }, bytes -> bytes < underLoad / 4);
  }

  /** Keeps one append in flight: each one's answer sends the next, until told to stop. */
  private void appendWhile(AtomicBoolean running, AtomicLong sent, AtomicReference<Throwable> failed) {
    if (!running.get()) {
      return;
    }
    store.append(event("EV-stream-" + sent.incrementAndGet())).onComplete(result -> {
      if (result.failed()) {
        failed.compareAndSet(null, result.cause());
      } else {
        appendWhile(running, sent, failed);
      }
    });
  }

  /** The checkpoint sequence number in the WAL header (big-endian, at byte 12): one more per restart. */
  private static int walRestarts(Path wal) throws IOException {
    byte[] header = new byte[16];
    try (InputStream in = Files.newInputStream(wal)) {
      if (in.readNBytes(header, 0, header.length) < header.length) {
        return 0;
      }
    }
    return ByteBuffer.wrap(header).getInt(12);
  }

  /** The page size applies to a new file; a file that exists keeps its own. */
  @Test
  void aNewFileHasTheConfiguredPageSizeAndAnExistingOneKeepsItsOwn(@TempDir Path other) throws Exception {
    assertThat(pageSize(dataDir)).isEqualTo(settings.sqlitePageSize());

    Settings.Store small = new Settings.Store(settings.sqliteSynchronous(), settings.batchSize(),
        settings.batchDelay(), settings.queueCapacity(), settings.commitTimeout(), 1024);
    SqliteInboxStore.open(other, small, OWNER).close().await();
    assertThat(pageSize(other)).isEqualTo(1024);

    closeStore();
    useStore(SqliteInboxStore.open(dataDir, small, OWNER));
    assertThat(pageSize(dataDir)).isEqualTo(settings.sqlitePageSize());
    assertThat(call(() -> store.append(event("EV-after-reopen"))).stored()).isTrue();
  }

  private static long pageSize(Path dir) throws SQLException {
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(SqliteInboxStore.FILE_NAME));
        var statement = connection.createStatement(); var rs = statement.executeQuery("PRAGMA page_size")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** One process owns the file: a new event is claimed in the commit that stores it. */
  @Test
  void appendClaimedClaimsInTheSameCommitAndARestartTakesItOver() throws Exception {
    AppendResult result = call(() -> store.appendClaimed(event("EV-adopted"), OWNER, LEASE));
    assertThat(result.claimed()).isTrue();
    assertThat(call(() -> store.status("openphone", "EV-adopted"))).isEqualTo(InboxStatus.PROCESSING);

    reopen();

    // The process that held the claim is gone: the event is claimable again, as its second attempt.
    List<InboxEvent> claimable = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(claimable).extracting(InboxEvent::inboxId).containsExactly(result.inboxId());
    assertThat(claimable.get(0).attempt()).isEqualTo(2);
  }

  /** A failed attempt's effects are undone and its failure recorded in their place, in the same commit. */
  @Test
  void aFailedFirstAttemptIsUndoneAndItsFailureRecorded() throws Exception {
    createScratchTable();
    AppendResult result = call(() -> store.appendClaimed(event("EV-fails"), OWNER, LEASE, attempt(
        (inbox, tx) -> effect(tx, "EV-fails").compose(n -> Future.failedFuture("handler failed")),
        (inbox, failure, tx) -> InboxTransitions.retryLater(tx, inbox, OWNER, 42L, failure.getMessage()))));

    assertThat(result.attempted()).isTrue();
    assertThat(effects("EV-fails")).as("the failed attempt's effects").isZero();
    SqlRow row = inboxRow(result.inboxId());
    assertThat(row.string("status")).isEqualTo("pending");
    assertThat(row.string("last_error")).isEqualTo("handler failed");
    assertThat(row.longValue("due_at")).isEqualTo(42L);
    assertThat(audit("EV-fails")).extracting(r -> r.string("state"))
        .containsExactly("received", "processing", "retry_scheduled");
  }

  /**
   * First attempts committed in one batch, one of them failing: its effects are undone alone and its
   * failure recorded, and every other attempt's effects commit exactly once. Each attempt runs once.
   */
  @Test
  void aFailedFirstAttemptInABatchIsUndoneAloneAndTheOthersCommitOnce() throws Exception {
    createScratchTable();
    RecordedTimings timings = new RecordedTimings();
    ((SqliteInboxStore) store).reportTimings(timings);
    int total = 12;
    String failing = "EV-batch-5";
    Map<String, Integer> runs = new ConcurrentHashMap<>();
    CountDownLatch writerBusy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // Holds the writer until every append below is queued, so that they form one batch.
    CompletableFuture<Integer> blocker = start(context, () -> store.inTransaction(tx -> {
      writerBusy.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return effect(tx, "blocker");
    }));
    assertThat(writerBusy.await(20, TimeUnit.SECONDS)).isTrue();
    CountDownLatch queued = new CountDownLatch(1);
    CompletableFuture<List<AppendResult>> appends = start(context, () -> {
      List<Future<AppendResult>> results = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        String eventId = "EV-batch-" + i;
        results.add(store.appendClaimed(event(eventId, "conversation:" + i), OWNER, LEASE, attempt(
            (inbox, tx) -> {
              runs.merge(eventId, 1, Integer::sum);
              Future<Integer> effect = effect(tx, eventId);
              return eventId.equals(failing) ? effect.compose(n -> Future.failedFuture("handler failed"))
                  : effect.compose(n -> processed());
            },
            (inbox, failure, tx) -> InboxTransitions.retryLater(tx, inbox, OWNER, 42L, failure.getMessage()))));
      }
      queued.countDown();
      return Future.all(results).map(all -> all.<AppendResult>list());
    });
    assertThat(queued.await(20, TimeUnit.SECONDS)).isTrue();
    release.countDown();
    await(blocker);
    List<AppendResult> results = await(appends);

    assertThat(timings.batchTasks).as("the appends committed together").contains(total);
    assertThat(results).allMatch(AppendResult::attempted);
    assertThat(runs).hasSize(total).allSatisfy((eventId, times) -> assertThat(times).as(eventId).isEqualTo(1));
    assertThat(effects(failing)).isZero();
    assertThat(call(() -> store.status("openphone", failing))).isEqualTo(InboxStatus.PENDING);
    assertThat(audit(failing)).extracting(r -> r.string("state"))
        .containsExactly("received", "processing", "retry_scheduled");
    for (int i = 0; i < total; i++) {
      String eventId = "EV-batch-" + i;
      if (!eventId.equals(failing)) {
        assertThat(effects(eventId)).as(eventId).isEqualTo(1);
        assertThat(call(() -> store.status("openphone", eventId))).as(eventId).isEqualTo(InboxStatus.PROCESSED);
        assertThat(audit(eventId)).extracting(r -> r.string("state"))
            .containsExactly("received", "processing", "processed");
      }
    }
  }

  /** Dead-lettered on arrival: the arrival and the dead letter audited, in order, in the same commit. */
  @Test
  void aFirstAttemptDeadLetteredOnArrivalIsAuditedInOrder() throws Exception {
    AppendResult result = call(() -> store.appendClaimed(event("EV-invalid"), OWNER, LEASE, attempt(
        (inbox, tx) -> Future.failedFuture("not a message"),
        (inbox, failure, tx) -> InboxTransitions.deadLetter(tx, inbox, OWNER, failure.getMessage(), null))));

    assertThat(result.attempted()).isTrue();
    assertThat(call(() -> store.status("openphone", "EV-invalid"))).isEqualTo(InboxStatus.DEAD);
    List<SqlRow> trail = audit("EV-invalid");
    assertThat(trail).extracting(r -> r.string("state")).containsExactly("received", "processing", "dead_lettered");
    assertThat(trail).extracting(r -> r.intValue("attempt")).containsExactly(0, 1, 1);
    assertThat(trail).extracting(r -> r.string("detail")).containsExactly("openphone", null, "not a message");
  }

  /**
   * A first attempt that ends processed, as nearly all do, leaves its event's row as it was first
   * written, with one call into SQLite fewer on the writer's thread. Counted by a trigger on the
   * file's inbox table.
   */
  @Test
  void aProcessedFirstAttemptWritesItsEventsRowOnce() throws Exception {
    createScratchTable();
    try (Connection connection = jdbc(); Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE inbox_updates (inbox_id INTEGER)");
      statement.execute("CREATE TRIGGER inbox_updated AFTER UPDATE ON inbox_events "
          + "BEGIN INSERT INTO inbox_updates VALUES (new.id); END");
    }
    AppendResult result = call(() -> store.appendClaimed(event("EV-once"), OWNER, LEASE, processes("EV-once")));

    assertThat(result.attempted()).isTrue();
    assertThat(countDirect("SELECT COUNT(*) FROM inbox_updates")).as("updates of inbox_events").isZero();
    assertFinishedOnFirstAttempt(result.inboxId(), "processed");
    assertThat(effects("EV-once")).isEqualTo(1);
    assertThat(audit("EV-once")).extracting(r -> r.string("state")).containsExactly("received", "processing", "processed");
  }

  /**
   * Declined, or failed with a failure that could not be recorded either: the event stays stored and
   * claimed, without effects, for the workers. A first attempt that throws counts as failed.
   */
  @Test
  void aDeclinedOrUnrecordableFirstAttemptLeavesTheEventClaimed() throws Exception {
    createScratchTable();
    AppendResult declined = call(() -> store.appendClaimed(event("EV-declined", "conversation:a"), OWNER, LEASE,
        attempt((inbox, tx) -> null, (inbox, failure, tx) -> Future.failedFuture("not expected"))));
    AppendResult unrecorded = call(() -> store.appendClaimed(event("EV-unrecorded", "conversation:b"), OWNER, LEASE,
        attempt((inbox, tx) -> {
          effect(tx, "EV-unrecorded");
          throw new IllegalStateException("handler threw");
        }, (inbox, failure, tx) -> effect(tx, "EV-unrecorded-failure").compose(n -> Future.failedFuture("no")))));

    for (AppendResult result : List.of(declined, unrecorded)) {
      assertThat(result.attempted()).isFalse();
      assertThat(result.claimed()).isTrue();
      SqlRow row = inboxRow(result.inboxId());
      assertThat(row.string("status")).isEqualTo("processing");
      assertThat(row.string("lease_owner")).isEqualTo(OWNER);
      assertThat(row.longValue("lease_until")).isGreaterThan(System.currentTimeMillis());
      assertThat(row.intValue("attempts")).isEqualTo(1);
    }
    for (String eventId : List.of("EV-declined", "EV-unrecorded")) {
      // Written by the store here, by the outcome's statement otherwise: the same entries either way.
      List<SqlRow> trail = audit(eventId);
      assertThat(trail).as("the arrival audited without an outcome").extracting(r -> r.string("state"))
          .containsExactly("received", "processing");
      assertThat(trail).extracting(r -> r.intValue("attempt")).containsExactly(0, 1);
      assertThat(trail).extracting(r -> r.string("detail")).containsExactly("openphone", null);
      assertThat(trail).extracting(r -> r.string("actor")).containsOnly(OWNER);
      assertThat(trail.get(0).longValue("at")).isEqualTo(1_700_000_000_000L);
      assertThat(trail.get(1).longValue("at")).isGreaterThan(1_700_000_000_000L);
    }
    assertThat(effects("EV-unrecorded")).isZero();
    assertThat(effects("EV-unrecorded-failure")).isZero();
  }

  /**
   * While an event waits in the store to be claimed, new events are stored pending and get no first
   * attempt: they would overtake it. A claim that takes every due event clears the way.
   */
  @Test
  void behindABacklogNewEventsAreStoredPendingUntilAClaimTakesIt() throws Exception {
    call(() -> store.append(event("EV-waiting", "conversation:a")));
    AppendResult behind = call(() -> store.appendClaimed(event("EV-behind", "conversation:b"), OWNER, LEASE,
        attempt((inbox, tx) -> processed(), (inbox, failure, tx) -> Future.failedFuture("no"))));
    assertThat(behind.claimed()).isFalse();
    assertThat(behind.attempted()).isFalse();
    assertThat(call(() -> store.status("openphone", "EV-behind"))).isEqualTo(InboxStatus.PENDING);

    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).hasSize(2);
    AppendResult after = call(() -> store.appendClaimed(event("EV-after", "conversation:c"), OWNER, LEASE,
        attempt((inbox, tx) -> processed(), (inbox, failure, tx) -> Future.failedFuture("no"))));
    assertThat(after.attempted()).isTrue();
  }

  @Test
  void reopeningTheSameDirectoryKeepsTheEvents() throws Exception {
    Set<Long> ids = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      String id = "EV-durable-" + i;
      ids.add(call(() -> store.append(event(id))).inboxId());
    }
    long claimedId = call(() -> store.claim(OWNER, LEASE, 1)).get(0).inboxId();

    reopen();

    for (int i = 0; i < 3; i++) {
      String id = "EV-durable-" + i;
      assertThat(call(() -> store.status("openphone", id))).as(id).isEqualTo(InboxStatus.PENDING);
      assertThat(call(() -> store.append(event(id)))).as(id).isEqualTo(AppendResult.DUPLICATE);
    }
    // The event claimed before the restart is claimable again (second attempt), with the others.
    List<InboxEvent> claimable = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(claimable).extracting(InboxEvent::inboxId).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(claimable).filteredOn(e -> e.inboxId() == claimedId)
        .singleElement().extracting(InboxEvent::attempt).isEqualTo(2);

    AppendResult fresh = call(() -> store.append(event("EV-after-reopen")));
    assertThat(fresh.stored()).isTrue();
    assertThat(fresh.inboxId()).isGreaterThan(ids.stream().mapToLong(Long::longValue).max().orElseThrow());
  }

  /**
   * One process owns the file, so whatever the previous run left in processing (it crashed with
   * live leases) is pending again at open, its lease cleared: claimable at once by anyone, its
   * attempts kept.
   */
  @Test
  void openResetsEventsOrphanedInProcessing() throws Exception {
    long orphan = call(() -> store.append(event("EV-orphan"))).inboxId();
    long finished = call(() -> store.append(event("EV-finished"))).inboxId();
    List<InboxEvent> claimed = call(() -> store.claim("crashed-instance", LEASE, 10));
    assertThat(claimed).hasSize(2);
    InboxEvent done = claimed.stream().filter(e -> e.inboxId() == finished).findFirst().orElseThrow();
    call(() -> store.inTransaction(tx -> InboxTransitions.finish(tx, done, "crashed-instance", InboxStatus.PROCESSED, "ok")));

    reopen();

    try (Connection connection = jdbc();
         PreparedStatement select = connection.prepareStatement(
             "SELECT status, lease_owner, lease_until, attempts FROM inbox_events WHERE id = ?")) {
      select.setLong(1, orphan);
      try (ResultSet rs = select.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString("status")).isEqualTo("pending");
        assertThat(rs.getString("lease_owner")).isNull();
        assertThat(rs.getObject("lease_until")).isNull();
        assertThat(rs.getInt("attempts")).isEqualTo(1);
      }
    }
    assertThat(call(() -> store.status("openphone", "EV-finished"))).as("finished work stays finished")
        .isEqualTo(InboxStatus.PROCESSED);
    List<InboxEvent> again = call(() -> store.claim("next-run", LEASE, 10));
    assertThat(again).extracting(InboxEvent::inboxId).containsExactly(orphan);
    assertThat(again.get(0).attempt()).isEqualTo(2);
  }
}
