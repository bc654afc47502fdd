package io.webhookd.store;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The operator's read-only view of the inbox: which events arrived and what became of each, with
 * its audit trail. Written once through {@link Tx} in the SQL both adapters share.
 */
public final class EventLog {

  private static final String SUMMARY = """
      id, source, event_id, event_type, status, attempts, occurred_at, received_at, updated_at, \
      signature_scheme, last_error""";
  private static final String DETAIL = SUMMARY + """
      , partition_key, due_at, lease_owner, lease_until, first_failed_at, last_failed_at, body""";
  private static final String AUDIT = """
      SELECT id, inbox_id, at, state, attempt, detail, actor FROM event_audit
      WHERE inbox_id = (SELECT id FROM inbox_events WHERE source = ? AND event_id = ?) ORDER BY id""";

  private final InboxStore store;

  public EventLog(InboxStore store) {
    this.store = store;
  }

  /** One stored event. Times are epoch milliseconds. */
  public record Event(long inboxId, String source, String eventId, String type, String status, int attempts,
      long occurredAt, long receivedAt, long updatedAt, String scheme, String lastError) {

    static Event of(SqlRow row) {
      return new Event(row.longValue("id"), row.string("source"), row.string("event_id"),
          row.string("event_type"), row.string("status"), row.intValue("attempts"),
          row.longValue("occurred_at"), row.longValue("received_at"), row.longValue("updated_at"),
          row.string("signature_scheme"), row.string("last_error"));
    }
  }

  /**
   * One state change of an event.
   *
   * @param inboxId the event's row in the inbox
   */
  public record AuditEntry(long id, Long inboxId, long at, String state, int attempt, String detail, String actor) {

    static AuditEntry of(SqlRow row) {
      return new AuditEntry(row.longValue("id"), row.longValue("inbox_id"), row.longValue("at"),
          row.string("state"), row.intValue("attempt"), row.string("detail"), row.string("actor"));
    }
  }

  /** An event with everything stored about it. The lease and failure fields may be null. */
  public record Detail(Event event, String partitionKey, long dueAt, String leaseOwner, Long leaseUntil,
      Long firstFailedAt, Long lastFailedAt, byte[] body, DeadLetterQueue.Entry deadLetter,
      List<AuditEntry> audit) {
  }

  /**
   * Which events to list; every field may be null (no condition).
   *
   * @param since received at or after (epoch ms)
   * @param limit at most this many, newest first; 0 for no limit
   */
  public record Filter(InboxStatus status, String type, Long since, int limit) {
  }

  /** More than one event has this event id (from different sources): name the source too. */
  public static final class AmbiguousReferenceException extends RuntimeException {
    public AmbiguousReferenceException(String reference, List<String> sources) {
      super("event id " + reference + " is stored for several sources (" + String.join(", ", sources)
          + "); name one as <source>:" + reference, null, false, false);
    }
  }

  /** Events, newest first. */
  public Future<List<Event>> list(Filter filter) {
    StringBuilder sql = new StringBuilder("SELECT ").append(SUMMARY).append(" FROM inbox_events WHERE 1 = 1");
    List<Object> params = new ArrayList<>();
    if (filter.status() != null) {
      sql.append(" AND status = ?");
      params.add(filter.status().dbValue());
    }
    if (filter.type() != null) {
      sql.append(" AND event_type = ?");
      params.add(filter.type());
    }
    if (filter.since() != null) {
      sql.append(" AND received_at >= ?");
      params.add(filter.since());
    }
    sql.append(" ORDER BY id DESC");
    if (filter.limit() > 0) {
      sql.append(" LIMIT ?");
      params.add(filter.limit());
    }
    return store.inTransaction(tx -> tx.query(sql.toString(), params.toArray())
        .map(rows -> rows.stream().map(Event::of).toList()));
  }

  /**
   * One event with its audit trail and dead letter, or null when none matches.
   *
   * @param reference the inbox id; or the provider's event id; or {@code <source>:<event id>}
   */
  public Future<Detail> show(String reference) {
    return store.inTransaction(tx -> find(tx, reference).compose(row -> {
      if (row == null) {
        return Future.succeededFuture(null);
      }
      Event event = Event.of(row);
      return tx.query("SELECT " + DeadLetterQueue.COLUMNS + " FROM dead_letters d WHERE d.inbox_id = ?",
              event.inboxId())
          .compose(dead -> audit(tx, event.source(), event.eventId()).map(audit -> new Detail(event,
              row.string("partition_key"), row.longValue("due_at"), row.string("lease_owner"),
              row.longValue("lease_until"), row.longValue("first_failed_at"), row.longValue("last_failed_at"),
              row.bytes("body"), dead.isEmpty() ? null : DeadLetterQueue.Entry.of(dead.get(0)), audit)));
    }));
  }

  /** The audit trail of one event, oldest first. */
  static Future<List<AuditEntry>> audit(Tx tx, String source, String eventId) {
    return tx.query(AUDIT, source, eventId).map(rows -> rows.stream().map(AuditEntry::of).toList());
  }

  /** By inbox id (all digits), else by event id, else as {@code <source>:<event id>}. */
  private static Future<SqlRow> find(Tx tx, String reference) {
    String select = "SELECT " + DETAIL + " FROM inbox_events";
    Future<SqlRow> byId = Future.succeededFuture(null);
    if (!reference.isEmpty() && reference.length() <= 18 && reference.chars().allMatch(Character::isDigit)) {
      byId = tx.query(select + " WHERE id = ?", Long.parseLong(reference)).map(EventLog::first);
    }
    return byId.compose(found -> found != null ? Future.succeededFuture(found)
        : tx.query(select + " WHERE event_id = ? ORDER BY source", reference).compose(rows -> {
          if (rows.size() > 1) {
            return Future.failedFuture(new AmbiguousReferenceException(reference,
                rows.stream().map(r -> r.string("source")).toList()));
          }
          if (rows.size() == 1 || reference.indexOf(':') <= 0) {
            return Future.succeededFuture(first(rows));
          }
          int colon = reference.indexOf(':');
          return tx.query(select + " WHERE source = ? AND event_id = ?",
              reference.substring(0, colon), reference.substring(colon + 1)).map(EventLog::first);
        }));
  }

  private static SqlRow first(List<SqlRow> rows) {
    return rows.isEmpty() ? null : rows.get(0);
  }
}
