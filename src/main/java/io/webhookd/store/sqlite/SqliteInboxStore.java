package io.webhookd.store.sqlite;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.AppendResult;
import io.webhookd.store.BatchTimings;
import io.webhookd.store.FirstAttempt;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxTransitions;
import io.webhookd.store.InboxStore;
import io.webhookd.store.RejectedRequest;
import io.webhookd.store.StorageUnavailableException;
import io.webhookd.store.Tx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The embedded inbox: one SQLite file in WAL mode, written by a single {@link SqliteWriter} thread
 * that commits concurrent appends together. With {@code synchronous=FULL} (the default) every
 * commit is on disk before any of its appends is acknowledged: a {@link WalSyncer} syncs the WAL
 * after the commit, off the writer thread.
 */
public final class SqliteInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteInboxStore.class);
  public static final String FILE_NAME = "webhookd.db";
  /**
   * The thread that runs every statement. At most 15 characters: the kernel keeps no more of a
   * thread's name, and top -H, perf and the bench tell the store's threads apart by it.
   */
  public static final String WRITER_THREAD = "sqlite-writer";

  private static final String INSERT_EVENT = """
      INSERT INTO inbox_events
        (source, event_id, event_type, occurred_at, partition_key, received_at, signature_scheme,
         body, status, attempts, due_at, updated_at, lease_owner, lease_until)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (source, event_id) DO NOTHING
      RETURNING id""";
  private static final String CLAIM = """
      UPDATE inbox_events
      SET status = 'processing', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
      WHERE id IN (
        SELECT id FROM inbox_events
        WHERE (status = 'pending' AND due_at <= ?) OR (status = 'processing' AND lease_until < ?)
        ORDER BY due_at, id LIMIT ?)
      RETURNING id, attempts, source, event_id, event_type, occurred_at, partition_key, received_at,
                signature_scheme, body""";
  private static final String ABANDON = """
      UPDATE inbox_events SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
        due_at = ?, lease_owner = NULL, lease_until = NULL,
        updated_at = ?
      WHERE id = ? AND status = 'processing' AND lease_owner = ?""";
  /** A first attempt's event, stored processed, claimed by its owner after all. */
  private static final String RECLAIM =
      "UPDATE inbox_events SET status = 'processing', lease_owner = ?, lease_until = ? WHERE id = ?";
  private static final String RENEW =
      "UPDATE inbox_events SET lease_until = ? WHERE status = 'processing' AND lease_owner = ?";
  // One process owns the file, so whatever it finds in processing at start-up was orphaned by a crash.
  private static final String ORPHANS = """
      UPDATE inbox_events SET status = 'pending', lease_owner = NULL, lease_until = NULL
      WHERE status = 'processing'""";
  private static final String ANY_PENDING =
      "SELECT EXISTS (SELECT 1 FROM inbox_events WHERE status = 'pending')";
  private static final String AUDIT = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)""";
  private static final String AUDIT_RECEIVED_AND_CLAIMED = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      SELECT ?1, ?2, ?3, ?4, 'received', 0, ?5, ?6
      UNION ALL SELECT ?1, ?2, ?3, ?7, 'processing', 1, NULL, ?8""";
  private static final String AUDIT_DUPLICATE = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      SELECT (SELECT id FROM inbox_events WHERE source = ? AND event_id = ?), ?, ?, ?, 'duplicate', 0, ?, ?""";
  private static final String QUARANTINE = """
      INSERT INTO rejected_requests
        (body_sha256, reason, signature_scheme, content_type, first_seen_at, last_seen_at, times_seen, body)
      VALUES (?, ?, ?, ?, ?, ?, 1, ?)
      ON CONFLICT (body_sha256) DO UPDATE
        SET last_seen_at = excluded.last_seen_at, times_seen = times_seen + 1""";

  /**
   * Checkpoint rounds. A round copies what the writer committed since the last one, and only its
   * last few dozen pages pause the writer ({@link SqliteCheckpointer}). A page that many commits
   * rewrite is copied once per round, so longer rounds write less to the disk (18 instead of 22 kB
   * per webhook at full load), and the WAL syncs that acknowledgements wait for queue less often
   * behind the database file's writes: at 5,000 webhooks/s the slowest tenth took over 4 ms with a
   * round every 200 ms, over 1-3 ms with one a second. (Rounds were short while the writer's part
   * still grew with them; docs/BENCHMARKS.md.)
   */
  private static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(1);
  /**
   * The WAL file is cut back to this size when it restarts: more than a round writes at full load
   * (about 140 MB at 12,000 webhooks/s), so that the file is not extended and cut back again every
   * round.
   */
  private static final long WAL_SIZE_LIMIT = 256L * 1024 * 1024;
  /**
   * The writer's page cache, small on purpose. A commit that split B-tree pages ends with SQLite
   * walking its whole page cache (a split parks a page at the lock-byte page number for a moment,
   * and the truncation at the end of the transaction then scans every cached page); with 64 MiB
   * that walk was a quarter of the writer's time. Pages it misses come from the OS's cache.
   */
  private static final int PAGE_CACHE_KIB = 8 * 1024;
  /** Each page in the WAL comes with a frame header of this many bytes. */
  private static final int WAL_FRAME_HEADER = 24;

  private final SqliteWriter writer;
  private final SqliteCheckpointer checkpointer;
  private final int pageSize;
  private final String instanceId;
  /**
   * Whether an event may be waiting in the store to be claimed (stored unclaimed, given back, or
   * left by the previous run). While it may, new events are stored pending rather than claimed or
   * processed on arrival, so that they cannot overtake older events of their conversation. Cleared
   * by a claim that took every due event. Read and written on the writer thread only.
   */
  private boolean backlog;

  private SqliteInboxStore(SqliteWriter writer, SqliteCheckpointer checkpointer, int pageSize, String instanceId,
      boolean backlog) {
    this.writer = writer;
    this.checkpointer = checkpointer;
    this.pageSize = pageSize;
    this.instanceId = instanceId;
    this.backlog = backlog;
  }

  /**
   * Creates the data directory, migrates the schema and starts the writer. Blocking: call it
   * from start-up code or a worker, never from an event loop.
   */
  public static SqliteInboxStore open(Path dataDir, Settings.Store settings, String instanceId)
      throws IOException, SQLException {
    return open(dataDir, settings, instanceId, true);
  }

  /**
   * @param takeOverOrphans whether this process is the server: then events a crash left in
   *                        processing are pending again at once (an operator's process leaves them)
   */
  public static SqliteInboxStore open(Path dataDir, Settings.Store settings, String instanceId,
      boolean takeOverOrphans) throws IOException, SQLException {
    Files.createDirectories(dataDir);
    Path database = dataDir.resolve(FILE_NAME).toAbsolutePath();
    String url = "jdbc:sqlite:" + database;
    if (!Files.exists(database)) {
      create(url, settings.sqlitePageSize());
    }
    migrate(url);
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    // FULL: durable before anyone hears of it, but synced by the writer's syncer rather than inside
    // each commit (see WalSyncer); the connection itself then commits as NORMAL does.
    boolean syncOwnCommits = settings.sqliteSynchronous() == Settings.SqliteSynchronous.FULL;
    config.setSynchronous(syncOwnCommits ? SQLiteConfig.SynchronousMode.NORMAL
        : SQLiteConfig.SynchronousMode.valueOf(settings.sqliteSynchronous().name()));
    config.setBusyTimeout(5_000);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    config.setCacheSize(-PAGE_CACHE_KIB);
    config.setGetGeneratedKeys(false);
    Connection connection = config.createConnection(url);
    try (var statement = connection.createStatement()) {
      if (takeOverOrphans) {
        // The server checkpoints on a thread of its own, never inside a commit.
        statement.execute("PRAGMA wal_autocheckpoint = 0");
        statement.execute("PRAGMA journal_size_limit = " + WAL_SIZE_LIMIT);
      } else {
        statement.execute("PRAGMA wal_autocheckpoint = 10000");
      }
    }
    boolean backlog;
    int pageSize;
    try (var statement = connection.createStatement()) {
      try (ResultSet rs = statement.executeQuery("PRAGMA page_size")) {
        pageSize = rs.next() ? rs.getInt(1) : settings.sqlitePageSize();
      }
      if (takeOverOrphans) {
        int orphans = statement.executeUpdate(ORPHANS);
        if (orphans > 0) {
          LOG.info("{} events left in processing by the previous run are pending again", orphans);
        }
      }
      try (ResultSet rs = statement.executeQuery(ANY_PENDING)) {
        backlog = rs.next() && rs.getInt(1) == 1;
      }
    }
    WalSyncer syncer = syncOwnCommits ? new WalSyncer(WalSyncer.SyncedFile.walOf(database)) : null;
    SqliteWriter writer = new SqliteWriter(connection, syncer, settings.batchSize(), settings.batchDelay(),
        settings.queueCapacity());
    writer.start();
    SqliteCheckpointer checkpointer = null;
    if (takeOverOrphans) {
      checkpointer = new SqliteCheckpointer(config.createConnection(url), writer,
          new WalSyncer.SyncedFile(database), CHECKPOINT_INTERVAL);
      checkpointer.start();
    }
    LOG.info("inbox store: SQLite at {} (synchronous={})", dataDir.resolve(FILE_NAME),
        settings.sqliteSynchronous());
    return new SqliteInboxStore(writer, checkpointer, pageSize, instanceId, backlog);
  }

  /**
   * A new database file with the configured page size. The size is fixed once the file has its
   * first table (and WAL mode forbids changing it later), so it is set before anything else.
   */
  private static void create(String url, int pageSize) throws SQLException {
    try (Connection connection = DriverManager.getConnection(url);
        var statement = connection.createStatement()) {
      statement.execute("PRAGMA page_size = " + pageSize);
      statement.execute("CREATE TABLE webhookd_page_size (n INTEGER)");
      statement.execute("DROP TABLE webhookd_page_size");
    }
  }

  static void migrate(String url) {
    Flyway.configure()
        .dataSource(url, null, null)
        .locations("classpath:db/migration/sqlite")
        .load()
        .migrate();
  }

  /** Where the writer reports where its time goes (metrics); nowhere until this is called. */
  public void reportTimings(BatchTimings timings) {
    writer.reportTimings(timings);
  }

  /**
   * Bytes written to the WAL since it last started over, as of the checkpointer's last pass: under
   * any load it falls back about once a second. One that keeps growing means checkpoints cannot
   * finish (another process holding a read transaction open on the file). 0 in an operator's
   * process, which leaves checkpoints to SQLite.
   */
  public long walBytes() {
    return checkpointer == null ? 0 : (long) checkpointer.walFrames() * (pageSize + WAL_FRAME_HEADER);
  }

  @Override
  public Future<AppendResult> append(WebhookEvent event) {
    return appendClaimed(event, null, 0, null);
  }

  @Override
  public Future<AppendResult> appendClaimed(WebhookEvent event, String owner, long leaseMillis) {
    return appendClaimed(event, owner, leaseMillis, null);
  }

  /**
   * One process owns the file, so no other instance's partition lease can stand in the way; and
   * every transaction runs on the writer thread, so the first attempt runs right there, inside the
   * commit that stores the event. Neither happens while older events wait to be claimed.
   */
  @Override
  public Future<AppendResult> appendClaimed(WebhookEvent event, String owner, long leaseMillis, FirstAttempt attempt) {
    // Whatever SQLite said, a failed append is a storage failure: the sender must retry.
    return writer.submit(session -> insert(session, event, owner, leaseMillis, attempt))
        .recover(e -> Future.failedFuture(e instanceof StorageUnavailableException ? e
            : new StorageUnavailableException("SQLite write failed: " + e.getMessage(), e)));
  }

  private AppendResult insert(SqliteWriter.Session session, WebhookEvent event, String owner, long leaseMillis,
      FirstAttempt attempt) throws SQLException {
    // Behind a backlog the event waits its turn, pending: claimed now, it would overtake older
    // events of its conversation that a claim has not taken yet.
    boolean claim = owner != null && !backlog;
    // Stored processed straight away, as nearly every first attempt ends: the row is written once,
    // and only an attempt that ends otherwise changes it (see firstAttempt).
    boolean attempting = claim && attempt != null;
    PreparedStatement insert = session.prepare(INSERT_EVENT);
    insert.setString(1, event.source());
    insert.setString(2, event.eventId());
    insert.setString(3, event.type());
    insert.setLong(4, event.occurredAt());
    insert.setString(5, event.partitionKey());
    insert.setLong(6, event.receivedAt());
    insert.setString(7, event.scheme());
    insert.setBytes(8, event.body());
    long now = System.currentTimeMillis();
    insert.setString(9, attempting ? "processed" : claim ? "processing" : "pending");
    insert.setInt(10, claim ? 1 : 0);
    insert.setLong(11, now);
    insert.setLong(12, now);
    insert.setString(13, attempting ? null : owner);
    if (claim && !attempting) {
      insert.setLong(14, now + leaseMillis);
    } else {
      insert.setNull(14, Types.BIGINT);
    }
    long id;
    try (ResultSet rs = insert.executeQuery()) {
      if (!rs.next()) {
        return AppendResult.DUPLICATE;
      }
      id = rs.getLong(1);
    }
    if (claim) {
      if (attempting) {
        // The arrival is audited with the attempt's outcome, in one statement; unless the attempt
        // declined, or neither it nor its failure could be recorded.
        AppendResult attempted = firstAttempt(session,
            new InboxEvent(id, 1, event, new InboxEvent.Arrival(instanceId, now)), owner, now + leaseMillis, attempt);
        if (!attempted.attempted()) {
          auditArrival(session, id, event, now, owner);
        }
        return attempted;
      }
      auditArrival(session, id, event, now, owner);
    } else {
      backlog = true;
      audit(session, id, event.source(), event.eventId(), event.receivedAt(), "received", 0, event.scheme(), instanceId);
    }
    return new AppendResult(true, id, claim);
  }

  /** Received and claimed, both rows in one statement: one call into SQLite fewer on the event's path. */
  private void auditArrival(SqliteWriter.Session session, long id, WebhookEvent event, long claimedAt, String owner)
      throws SQLException {
    PreparedStatement audit = session.prepare(AUDIT_RECEIVED_AND_CLAIMED);
    audit.setLong(1, id);
    audit.setString(2, event.source());
    audit.setString(3, event.eventId());
    audit.setLong(4, event.receivedAt());
    audit.setString(5, event.scheme());
    audit.setString(6, instanceId);
    audit.setLong(7, claimedAt);
    audit.setString(8, owner);
    audit.executeUpdate();
  }

  /**
   * Runs the attempt at an event stored processed, and records its outcome, under a savepoint of
   * their own. An outcome other than processed, a decline and a failure first give the event back
   * its claim, which the outcome, the workers or the failure's record then take from there. Should
   * the attempt or the recording of its outcome fail, the effects are undone and the failure is
   * recorded in their place; should that fail too, the event stays stored and claimed, for the
   * workers.
   */
  private static AppendResult firstAttempt(SqliteWriter.Session session, InboxEvent event, String owner,
      long leaseUntil, FirstAttempt attempt) throws SQLException {
    session.prepare("SAVEPOINT first_attempt").execute();
    JdbcTx tx = new JdbcTx(session);
    Future<?> done = completed(() -> {
      Future<FirstAttempt.Outcome> run = attempt.run(event, tx);
      return run == null ? null : run.compose(outcome -> outcome.status() == InboxStatus.PROCESSED
          ? InboxTransitions.audit(tx, event, outcome.status().dbValue(), outcome.detail(), owner, System.currentTimeMillis())
          : tx.update(RECLAIM, owner, leaseUntil, event.inboxId())
              .compose(n -> InboxTransitions.finish(tx, event, owner, outcome.status(), outcome.detail())));
    });
    if (done != null && done.succeeded()) {
      session.prepare("RELEASE first_attempt").execute();
      return new AppendResult(true, event.inboxId(), true, true);
    }
    if (done != null) {
      session.prepare("ROLLBACK TO first_attempt").execute();
    }
    session.prepare("RELEASE first_attempt").execute();
    reclaim(session, event.inboxId(), owner, leaseUntil);
    if (done == null) {
      return new AppendResult(true, event.inboxId(), true);
    }
    session.prepare("SAVEPOINT first_failure").execute();
    Future<?> recorded = completed(() -> attempt.failed(event, done.cause(), tx));
    boolean attempted = recorded != null && recorded.succeeded();
    if (!attempted) {
      session.prepare("ROLLBACK TO first_failure").execute();
      LOG.warn("recording the failed first attempt at event {} failed, the workers take it: {}",
          event.event().eventId(), recorded == null ? "no outcome" : recorded.cause().getMessage());
    }
    session.prepare("RELEASE first_failure").execute();
    return new AppendResult(true, event.inboxId(), true, attempted);
  }

  private static void reclaim(SqliteWriter.Session session, long inboxId, String owner, long leaseUntil)
      throws SQLException {
    PreparedStatement reclaim = session.prepare(RECLAIM);
    reclaim.setString(1, owner);
    reclaim.setLong(2, leaseUntil);
    reclaim.setLong(3, inboxId);
    reclaim.executeUpdate();
  }

  /**
   * Work given a {@link JdbcTx}, run on this (the writer) thread: its future must be complete when
   * returned, since nothing can complete it later inside this transaction. A throw is a failure;
   * null (a declined first attempt) stays null.
   */
  private static <T> Future<T> completed(Supplier<Future<T>> work) {
    Future<T> done;
    try {
      done = work.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (done != null && !done.isComplete()) {
      return Future.failedFuture(new IllegalStateException("work given a Tx must use only it"));
    }
    return done;
  }

  @Override
  public void recordDuplicate(WebhookEvent event, String detectedBy) {
    writer.submit(session -> {
      PreparedStatement insert = session.prepare(AUDIT_DUPLICATE);
      insert.setString(1, event.source());
      insert.setString(2, event.eventId());
      insert.setString(3, event.source());
      insert.setString(4, event.eventId());
      insert.setLong(5, event.receivedAt());
      insert.setString(6, "detected by " + detectedBy);
      insert.setString(7, instanceId);
      insert.executeUpdate();
      return null;
    }).onFailure(e -> LOG.debug("auditing a duplicate failed: {}", e.getMessage()));
  }

  private static void audit(SqliteWriter.Session session, long inboxId, String source, String eventId, long at,
      String state, int attempt, String detail, String actor) throws SQLException {
    PreparedStatement insert = session.prepare(AUDIT);
    insert.setLong(1, inboxId);
    insert.setString(2, source);
    insert.setString(3, eventId);
    insert.setLong(4, at);
    insert.setString(5, state);
    insert.setInt(6, attempt);
    insert.setString(7, detail);
    insert.setString(8, actor);
    insert.executeUpdate();
  }

  @Override
  public Future<Void> quarantine(RejectedRequest request) {
    return writer.submit(session -> {
      PreparedStatement insert = session.prepare(QUARANTINE);
      insert.setString(1, request.bodySha256());
      insert.setString(2, request.reason());
      insert.setString(3, request.scheme());
      insert.setString(4, request.contentType());
      insert.setLong(5, request.receivedAt());
      insert.setLong(6, request.receivedAt());
      insert.setBytes(7, request.body());
      insert.executeUpdate();
      return null;
    });
  }

  @Override
  public Future<List<InboxEvent>> claim(String owner, long leaseMillis, int limit) {
    return writer.submit(session -> {
      long now = System.currentTimeMillis();
      PreparedStatement claim = session.prepare(CLAIM);
      claim.setString(1, owner);
      claim.setLong(2, now + leaseMillis);
      claim.setLong(3, now);
      claim.setLong(4, now);
      claim.setLong(5, now);
      claim.setInt(6, limit);
      List<InboxEvent> events = new ArrayList<>();
      try (ResultSet rs = claim.executeQuery()) {
        while (rs.next()) {
          events.add(new InboxEvent(rs.getLong(1), rs.getInt(2), new WebhookEvent(rs.getString(3),
              rs.getString(4), rs.getString(5), rs.getLong(6), rs.getString(7), rs.getLong(8),
              rs.getString(9), rs.getBytes(10))));
        }
      }
      if (events.size() < limit) {
        // Every event due now is claimed: none is left waiting that a first attempt could overtake.
        backlog = false;
      }
      events.sort(Comparator.comparingLong(InboxEvent::inboxId));
      for (InboxEvent claimed : events) {
        audit(session, claimed.inboxId(), claimed.event().source(), claimed.event().eventId(), now,
            "processing", claimed.attempt(), null, owner);
      }
      return events;
    });
  }

  @Override
  public Future<Void> abandon(long inboxId, String owner, long dueAt) {
    return writer.submit(session -> {
      PreparedStatement update = session.prepare(ABANDON);
      update.setLong(1, dueAt);
      update.setLong(2, System.currentTimeMillis());
      update.setLong(3, inboxId);
      update.setString(4, owner);
      if (update.executeUpdate() > 0) {
        backlog = true;
      }
      return null;
    });
  }

  @Override
  public Future<Void> renew(String owner, long leaseMillis) {
    return writer.submit(session -> {
      PreparedStatement update = session.prepare(RENEW);
      update.setLong(1, System.currentTimeMillis() + leaseMillis);
      update.setString(2, owner);
      update.executeUpdate();
      return null;
    });
  }

  /** Partitions need no lease here: one process owns the SQLite file and orders its own work. */
  @Override
  public Future<Void> release(String owner, Collection<String> partitionKeys) {
    return Future.succeededFuture();
  }

  @Override
  public <T> Future<T> inTransaction(Function<Tx, Future<T>> work) {
    return writer.submitIsolated(session -> {
      Future<T> done = completed(() -> work.apply(new JdbcTx(session)));
      if (done.failed()) {
        throw SqliteWriter.TaskFailure.of(done.cause());
      }
      return done.result();
    });
  }

  @Override
  public Future<Void> check() {
    return writer.submit(session -> {
      try (ResultSet rs = session.prepare("SELECT 1").executeQuery()) {
        rs.next();
      }
      return null;
    });
  }

  @Override
  public Future<InboxStatus> status(String source, String eventId) {
    return writer.submit(session -> {
      PreparedStatement select =
          session.prepare("SELECT status FROM inbox_events WHERE source = ? AND event_id = ?");
      select.setString(1, source);
      select.setString(2, eventId);
      try (ResultSet rs = select.executeQuery()) {
        return rs.next() ? InboxStatus.fromDb(rs.getString(1)) : null;
      }
    });
  }

  @Override
  public Future<Void> close() {
    Context caller = Vertx.currentContext();
    // The checkpointer stops once the writer has finished (on the writer's thread, off any event
    // loop); the last connection to close copies what is left in the WAL.
    var closed = writer.close().thenRun(() -> {
      if (checkpointer != null) {
        checkpointer.close();
      }
    });
    return caller == null
        ? Future.fromCompletionStage(closed)
        : Future.fromCompletionStage(closed, caller);
  }
}
