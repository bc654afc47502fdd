package io.webhookd.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Plain JDBC on the server's SQLite file ({@code <data dir>/webhookd.db}), for checking what was
 * stored. Safe while the server runs (the file is in WAL mode; this only reads) and after it stopped.
 */
final class InboxDb implements AutoCloseable {

  static final String FILE_NAME = "webhookd.db";

  /** One row of {@code inbox_events}. */
  record StoredEvent(String source, String eventId, String type, String scheme, String status, byte[] body) {
  }

  /** One row of {@code rejected_requests}. */
  record Rejected(String bodySha256, String reason, long timesSeen, byte[] body) {
  }

  private final Connection connection;

  private InboxDb(Connection connection) {
    this.connection = connection;
  }

  static InboxDb open(Path dataDir) throws SQLException {
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new AssertionError("the server made no database at " + file);
    }
    Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (var statement = connection.createStatement()) {
      statement.execute("PRAGMA busy_timeout = 5000");
    }
    return new InboxDb(connection);
  }

  long eventCount() throws SQLException {
    return count("SELECT COUNT(*) FROM inbox_events");
  }

  /** Rows for this event id (the store's key is (source, event_id); the source is always openphone). */
  long eventCount(String eventId) throws SQLException {
    return count("SELECT COUNT(*) FROM inbox_events WHERE event_id = ?", eventId);
  }

  long rejectedCount() throws SQLException {
    return count("SELECT COUNT(*) FROM rejected_requests");
  }

  Optional<StoredEvent> event(String eventId) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(
        "SELECT source, event_id, event_type, signature_scheme, status, body FROM inbox_events WHERE event_id = ?")) {
      select.setString(1, eventId);
      try (ResultSet rs = select.executeQuery()) {
        return rs.next()
            ? Optional.of(new StoredEvent(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getBytes(6)))
            : Optional.empty();
      }
    }
  }

  /** event_id to status, for every stored event. */
  Map<String, String> statuses() throws SQLException {
    Map<String, String> statuses = new HashMap<>();
    try (PreparedStatement select = connection.prepareStatement("SELECT event_id, status FROM inbox_events");
        ResultSet rs = select.executeQuery()) {
      while (rs.next()) {
        statuses.put(rs.getString(1), rs.getString(2));
      }
    }
    return statuses;
  }

  Optional<Rejected> rejected(String bodySha256) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(
        "SELECT body_sha256, reason, times_seen, body FROM rejected_requests WHERE body_sha256 = ?")) {
      select.setString(1, bodySha256);
      try (ResultSet rs = select.executeQuery()) {
        return rs.next()
            ? Optional.of(new Rejected(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getBytes(4)))
            : Optional.empty();
      }
    }
  }

  long rejectedCount(String bodySha256) throws SQLException {
    return count("SELECT COUNT(*) FROM rejected_requests WHERE body_sha256 = ?", bodySha256);
  }

  private long count(String sql, String... params) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        select.setString(i + 1, params[i]);
      }
      try (ResultSet rs = select.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
