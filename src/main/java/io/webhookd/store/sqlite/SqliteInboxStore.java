package io.webhookd.store.sqlite;

import io.vertx.core.Future;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.AppendResult;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxStore;
import io.webhookd.store.RejectedRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The embedded inbox: one SQLite file in WAL mode, written by a single {@link SqliteWriter} thread
 * that commits concurrent appends together. With {@code synchronous=FULL} (the default) every
 * commit is on disk before any of its appends is acknowledged.
 */
public final class SqliteInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteInboxStore.class);
  public static final String FILE_NAME = "webhookd.db";

  private static final String INSERT_EVENT = """
      INSERT INTO inbox_events
        (source, event_id, event_type, occurred_at, partition_key, received_at, signature_scheme,
         body, status, attempts, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)
      ON CONFLICT (source, event_id) DO NOTHING
      RETURNING id""";
  private static final String MARK_PROCESSING = """
      UPDATE inbox_events SET status = 'processing', attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND status IN ('pending', 'processing')""";
  private static final String MARK_PROCESSED =
      "UPDATE inbox_events SET status = 'processed', updated_at = ? WHERE id = ?";
  private static final String UNFINISHED = """
      SELECT id, source, event_id, event_type, occurred_at, partition_key, received_at,
             signature_scheme, body
      FROM inbox_events
      WHERE status IN ('pending', 'processing') AND id > ? AND id <= ?
      ORDER BY id LIMIT ?""";
  private static final String QUARANTINE = """
      INSERT INTO rejected_requests
        (body_sha256, reason, signature_scheme, content_type, first_seen_at, last_seen_at, times_seen, body)
      VALUES (?, ?, ?, ?, ?, ?, 1, ?)
      ON CONFLICT (body_sha256) DO UPDATE
        SET last_seen_at = excluded.last_seen_at, times_seen = times_seen + 1""";

  private final SqliteWriter writer;

  private SqliteInboxStore(SqliteWriter writer) {
    this.writer = writer;
  }

  /**
   * Creates the data directory, migrates the schema and starts the writer. Blocking: call it
   * from start-up code or a worker, never from an event loop.
   */
  public static SqliteInboxStore open(Path dataDir, Settings.Store settings) throws IOException, SQLException {
    Files.createDirectories(dataDir);
    String url = "jdbc:sqlite:" + dataDir.resolve(FILE_NAME).toAbsolutePath();
    migrate(url);
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.valueOf(settings.sqliteSynchronous().name()));
    config.setBusyTimeout(5_000);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    Connection connection = config.createConnection(url);
    SqliteWriter writer = new SqliteWriter(
        connection, settings.batchSize(), settings.batchDelay(), settings.queueCapacity());
    writer.start();
    LOG.info("inbox store: SQLite at {} (synchronous={})", dataDir.resolve(FILE_NAME),
        settings.sqliteSynchronous());
    return new SqliteInboxStore(writer);
  }

  static void migrate(String url) {
    Flyway.configure()
        .dataSource(url, null, null)
        .locations("classpath:db/migration/sqlite")
        .load()
        .migrate();
  }

  @Override
  public Future<AppendResult> append(WebhookEvent event) {
    return writer.submit(session -> {
      PreparedStatement insert = session.prepare(INSERT_EVENT);
      insert.setString(1, event.source());
      insert.setString(2, event.eventId());
      insert.setString(3, event.type());
      insert.setLong(4, event.occurredAt());
      insert.setString(5, event.partitionKey());
      insert.setLong(6, event.receivedAt());
      insert.setString(7, event.scheme());
      insert.setBytes(8, event.body());
      insert.setLong(9, System.currentTimeMillis());
      try (ResultSet rs = insert.executeQuery()) {
        return rs.next() ? new AppendResult(true, rs.getLong(1)) : AppendResult.DUPLICATE;
      }
    });
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
  public Future<Boolean> markProcessing(long inboxId) {
    return writer.submit(session -> {
      PreparedStatement update = session.prepare(MARK_PROCESSING);
      update.setLong(1, System.currentTimeMillis());
      update.setLong(2, inboxId);
      return update.executeUpdate() == 1;
    });
  }

  @Override
  public Future<Void> markProcessed(long inboxId) {
    return writer.submit(session -> {
      PreparedStatement update = session.prepare(MARK_PROCESSED);
      update.setLong(1, System.currentTimeMillis());
      update.setLong(2, inboxId);
      update.executeUpdate();
      return null;
    });
  }

  @Override
  public Future<List<InboxEvent>> unfinished(long afterId, long upToId, int limit) {
    return writer.submit(session -> {
      PreparedStatement select = session.prepare(UNFINISHED);
      select.setLong(1, afterId);
      select.setLong(2, upToId);
      select.setInt(3, limit);
      List<InboxEvent> events = new ArrayList<>();
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          events.add(new InboxEvent(rs.getLong(1), new WebhookEvent(rs.getString(2), rs.getString(3),
              rs.getString(4), rs.getLong(5), rs.getString(6), rs.getLong(7), rs.getString(8),
              rs.getBytes(9))));
        }
      }
      return events;
    });
  }

  @Override
  public Future<Long> lastId() {
    return writer.submit(session -> {
      try (ResultSet rs = session.prepare("SELECT COALESCE(MAX(id), 0) FROM inbox_events").executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
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
    return Future.fromCompletionStage(writer.close());
  }
}
