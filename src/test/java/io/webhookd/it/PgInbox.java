package io.webhookd.it;

import io.webhookd.testing.PrivateDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Plain JDBC on a test's PostgreSQL database, for checking what the servers stored and did. Every
 * query is limited to the event ids of one test run ({@code event_id LIKE prefix%}).
 */
final class PgInbox implements AutoCloseable {

  /** One row of {@code inbox_events}. */
  record Event(long id, String eventId, String partitionKey, String status, int attempts, String leaseOwner,
      Long leaseUntil) {
  }

  /** One row of {@code event_audit}, with its event's partition. */
  record Audit(String eventId, String partitionKey, String state, long at, String actor, int attempt) {
  }

  private final Connection connection;
  private final String prefix;

  private PgInbox(Connection connection, String prefix) {
    this.connection = connection;
    this.prefix = prefix;
  }

  /** Rows of {@code db} whose event id starts with {@code eventIdPrefix}. */
  static PgInbox open(PrivateDatabase db, String eventIdPrefix) throws SQLException {
    return new PgInbox(db.jdbc(), eventIdPrefix);
  }

  /** The run prefix of an id made by {@link Bodies#uniqueId}: everything up to its sequence number. */
  static String prefixOf(String uniqueId) {
    return uniqueId.substring(0, uniqueId.lastIndexOf('-') + 1);
  }

  /** Rows in inbox_events. */
  long eventRows() throws SQLException {
    return count("SELECT COUNT(*) FROM inbox_events WHERE event_id LIKE ?");
  }

  /** Distinct event ids in inbox_events. */
  long distinctEvents() throws SQLException {
    return count("SELECT COUNT(DISTINCT event_id) FROM inbox_events WHERE event_id LIKE ?");
  }

  /** event id to row. */
  Map<String, Event> events() throws SQLException {
    Map<String, Event> events = new HashMap<>();
    try (PreparedStatement select = connection.prepareStatement(
        "SELECT id, event_id, partition_key, status, attempts, lease_owner, lease_until FROM inbox_events"
            + " WHERE event_id LIKE ?")) {
      select.setString(1, prefix + "%");
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          long leaseUntil = rs.getLong(7);
          events.put(rs.getString(2), new Event(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
              rs.getInt(5), rs.getString(6), rs.wasNull() ? null : leaseUntil));
        }
      }
    }
    return events;
  }

  /** status to number of rows. */
  Map<String, Long> statusCounts() throws SQLException {
    return events().values().stream().collect(Collectors.groupingBy(Event::status, Collectors.counting()));
  }

  /** Audit rows in the given states, in insertion order. */
  List<Audit> audit(String... states) throws SQLException {
    List<Audit> rows = new ArrayList<>();
    try (PreparedStatement select = connection.prepareStatement(
        "SELECT a.event_id, e.partition_key, a.state, a.at, a.actor, a.attempt FROM event_audit a"
            + " LEFT JOIN inbox_events e ON e.id = a.inbox_id"
            + " WHERE a.event_id LIKE ? AND a.state = ANY(?) ORDER BY a.id")) {
      select.setString(1, prefix + "%");
      select.setArray(2, connection.createArrayOf("text", states));
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          rows.add(new Audit(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
              rs.getInt(6)));
        }
      }
    }
    return rows;
  }

  /** event id to the number of audit rows in {@code state}. */
  Map<String, Long> auditCounts(String state) throws SQLException {
    return audit(state).stream().collect(Collectors.groupingBy(Audit::eventId, Collectors.counting()));
  }

  private long count(String sql) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(sql)) {
      select.setString(1, prefix + "%");
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
