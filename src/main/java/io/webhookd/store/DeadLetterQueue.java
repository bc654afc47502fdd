package io.webhookd.store;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The operator's view of the dead-letter queue: list and inspect dead letters, put them back for
 * processing (replay) or resolve them without processing (discard). Written once through {@link Tx}
 * in the SQL both adapters share, each call in one short transaction, so it is safe while a server
 * runs on the same store: a replayed event is pending and due at once, and the server's next poll
 * claims it (or the next start, when no server runs).
 *
 * <p>A dead letter is open until it is replayed or discarded; both keep the row, resolved, for
 * audit, and write an entry in the event's audit trail naming the operator.
 */
public final class DeadLetterQueue {

  /** A dead letter's columns, as {@link Entry#of} reads them; {@code d} is {@code dead_letters}. */
  static final String COLUMNS = """
      d.inbox_id, d.source, d.event_id, d.event_type, d.error, d.attempts, d.first_failed_at,
      d.last_failed_at, d.dead_at, d.resolved_at, d.resolution, d.resolved_by""";
  private static final String SHOW = "SELECT " + COLUMNS + ", d.stack_trace, e.status, e.partition_key,"
      + " e.occurred_at, e.received_at, e.signature_scheme, e.body"
      + " FROM dead_letters d JOIN inbox_events e ON e.id = d.inbox_id WHERE d.inbox_id = ?";
  private static final String OPEN_ONE = "SELECT " + COLUMNS
      + " FROM dead_letters d JOIN inbox_events e ON e.id = d.inbox_id"
      + " WHERE d.inbox_id = ? AND d.resolved_at IS NULL AND e.status = 'dead'";
  private static final String REPLAY_EVENT = """
      UPDATE inbox_events
      SET status = 'pending', attempts = 0, due_at = ?, lease_owner = NULL, lease_until = NULL,
          last_error = NULL, first_failed_at = NULL, last_failed_at = NULL, updated_at = ?
      WHERE id = ? AND status = 'dead'""";
  private static final String DISCARD_EVENT = """
      UPDATE inbox_events SET status = 'discarded', lease_owner = NULL, lease_until = NULL, updated_at = ?
      WHERE id = ? AND status = 'dead'""";
  private static final String RESOLVE = """
      UPDATE dead_letters SET resolved_at = ?, resolution = ?, resolved_by = ?
      WHERE inbox_id = ? AND resolved_at IS NULL""";

  /** The resolution of a replayed dead letter; a discarded one's is {@code discarded: <reason>}. */
  public static final String REPLAYED = "replayed";

  private final InboxStore store;
  private final String actor;

  /** @param actor who the audit trail names for replays and discards, e.g. {@code cli:alice} */
  public DeadLetterQueue(InboxStore store, String actor) {
    this.store = store;
    this.actor = actor;
  }

  /** One dead letter. Times are epoch milliseconds; the resolution fields are null while open. */
  public record Entry(long inboxId, String source, String eventId, String type, String error, int attempts,
      long firstFailedAt, long lastFailedAt, long deadAt, Long resolvedAt, String resolution, String resolvedBy) {

    public boolean open() {
      return resolvedAt == null;
    }

    static Entry of(SqlRow row) {
      return new Entry(row.longValue("inbox_id"), row.string("source"), row.string("event_id"),
          row.string("event_type"), row.string("error"), row.intValue("attempts"),
          row.longValue("first_failed_at"), row.longValue("last_failed_at"), row.longValue("dead_at"),
          row.longValue("resolved_at"), row.string("resolution"), row.string("resolved_by"));
    }
  }

  /** A dead letter with everything known about it: its event, stack trace and audit trail. */
  public record Detail(Entry entry, String stackTrace, String status, String partitionKey, long occurredAt,
      long receivedAt, String scheme, byte[] body, List<EventLog.AuditEntry> audit) {
  }

  /**
   * Which open dead letters to take.
   *
   * @param type  only this event type, or null for every type
   * @param since only those dead-lettered at or after this time (epoch ms), or null
   * @param limit at most this many, oldest first; 0 for no limit
   */
  public record Filter(String type, Long since, int limit) {
  }

  /** An ID given to {@link #replay} or {@link #discard} that is not an open dead letter: nothing changed. */
  public static final class NotOpenException extends RuntimeException {
    private final List<Long> inboxIds;

    public NotOpenException(List<Long> inboxIds) {
      super((inboxIds.size() == 1 ? "id " : "ids ") + inboxIds.stream().map(String::valueOf)
          .reduce((a, b) -> a + ", " + b).orElse("")
          + (inboxIds.size() == 1 ? " is" : " are")
          + " not in the dead-letter queue (no such dead letter, or already replayed or discarded);"
          + " nothing was changed", null, false, false);
      this.inboxIds = List.copyOf(inboxIds);
    }

    public List<Long> inboxIds() {
      return inboxIds;
    }
  }

  /** Open dead letters, oldest first. */
  public Future<List<Entry>> list(Filter filter) {
    return store.inTransaction(tx -> open(tx, filter));
  }

  /** The dead letter of this inbox event, open or resolved; null if it never was one. */
  public Future<Detail> show(long inboxId) {
    return store.inTransaction(tx -> tx.query(SHOW, inboxId).compose(rows -> {
      if (rows.isEmpty()) {
        return Future.succeededFuture(null);
      }
      SqlRow row = rows.get(0);
      Entry entry = Entry.of(row);
      return EventLog.audit(tx, entry.source(), entry.eventId()).map(audit -> new Detail(entry,
          row.string("stack_trace"), row.string("status"), row.string("partition_key"),
          row.longValue("occurred_at"), row.longValue("received_at"), row.string("signature_scheme"),
          row.bytes("body"), audit));
    }));
  }

  /**
   * Puts these dead letters back for processing with a fresh attempt budget: the event is pending
   * with no attempts, due now and unleased; the dead letter is resolved as {@value #REPLAYED}; the
   * audit trail says {@code replayed}. All or nothing: if any ID is not an open dead letter, fails
   * with {@link NotOpenException} and changes nothing.
   *
   * @param dryRun only check and return what would be replayed
   * @return the dead letters replayed (as they were before), in the order given
   */
  public Future<List<Entry>> replay(List<Long> inboxIds, boolean dryRun) {
    return store.inTransaction(tx -> openByIds(tx, inboxIds)
        .compose(entries -> dryRun ? Future.succeededFuture(entries) : each(entries, e -> replayOne(tx, e, true))));
  }

  /**
   * Replays every open dead letter the filter selects (its limit is ignored). One that another
   * operator resolved meanwhile is skipped.
   */
  public Future<List<Entry>> replayAll(Filter filter, boolean dryRun) {
    Filter unlimited = new Filter(filter.type(), filter.since(), 0);
    return store.inTransaction(tx -> open(tx, unlimited)
        .compose(entries -> dryRun ? Future.succeededFuture(entries) : each(entries, e -> replayOne(tx, e, false))));
  }

  /**
   * Resolves these dead letters without processing them: the event is {@code discarded}, the dead
   * letter's resolution is {@code discarded: <reason>}, the audit trail says {@code discarded}. All
   * or nothing, as {@link #replay}.
   */
  public Future<List<Entry>> discard(List<Long> inboxIds, String reason) {
    if (reason == null || reason.isBlank()) {
      return Future.failedFuture(new IllegalArgumentException("a reason is required to discard"));
    }
    String resolution = "discarded: " + reason.strip();
    return store.inTransaction(tx -> openByIds(tx, inboxIds).compose(entries -> each(entries, entry -> {
      long now = System.currentTimeMillis();
      return tx.update(DISCARD_EVENT, now, entry.inboxId())
          .compose(rows -> changed(rows, entry, true))
          .compose(v -> tx.update(RESOLVE, now, resolution, actor, entry.inboxId()))
          .compose(rows -> changed(rows, entry, true))
          .compose(v -> audit(tx, entry, "discarded", reason.strip(), now))
          .map(true);
    })));
  }

  private Future<Boolean> replayOne(Tx tx, Entry entry, boolean strict) {
    long now = System.currentTimeMillis();
    return tx.update(REPLAY_EVENT, now, now, entry.inboxId()).compose(rows -> {
      if (rows == 0 && !strict) {
        return Future.succeededFuture(false);
      }
      return changed(rows, entry, strict)
          .compose(v -> tx.update(RESOLVE, now, REPLAYED, actor, entry.inboxId()))
          .compose(resolved -> changed(resolved, entry, true))
          .compose(v -> audit(tx, entry, "replayed",
              "replayed from the dead-letter queue after " + entry.attempts()
                  + (entry.attempts() == 1 ? " attempt" : " attempts"), now))
          .map(true);
    });
  }

  private Future<Void> audit(Tx tx, Entry entry, String state, String detail, long at) {
    return tx.update(InboxTransitions.AUDIT, entry.inboxId(), entry.source(), entry.eventId(), at, state, 0,
        detail, actor).mapEmpty();
  }

  /** A guarded update that changed nothing: someone else resolved it meanwhile. */
  private static Future<Void> changed(int rows, Entry entry, boolean strict) {
    return rows == 1 || !strict ? Future.succeededFuture()
        : Future.failedFuture(new NotOpenException(List.of(entry.inboxId())));
  }

  private static Future<List<Entry>> open(Tx tx, Filter filter) {
    StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS)
        .append(" FROM dead_letters d WHERE d.resolved_at IS NULL");
    List<Object> params = new ArrayList<>();
    if (filter.type() != null) {
      sql.append(" AND d.event_type = ?");
      params.add(filter.type());
    }
    if (filter.since() != null) {
      sql.append(" AND d.dead_at >= ?");
      params.add(filter.since());
    }
    sql.append(" ORDER BY d.dead_at, d.inbox_id");
    if (filter.limit() > 0) {
      sql.append(" LIMIT ?");
      params.add(filter.limit());
    }
    return tx.query(sql.toString(), params.toArray()).map(rows -> rows.stream().map(Entry::of).toList());
  }

  /** The open dead letters with these IDs, in the order given; fails naming every ID that is not. */
  private static Future<List<Entry>> openByIds(Tx tx, List<Long> inboxIds) {
    List<Long> distinct = inboxIds.stream().distinct().toList();
    List<Entry> found = new ArrayList<>();
    List<Long> missing = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (Long id : distinct) {
      chain = chain.compose(v -> tx.query(OPEN_ONE, id).map(rows -> {
        if (rows.isEmpty()) {
          missing.add(id);
        } else {
          found.add(Entry.of(rows.get(0)));
        }
        return null;
      }));
    }
    return chain.compose(v -> missing.isEmpty() ? Future.succeededFuture(found)
        : Future.failedFuture(new NotOpenException(missing)));
  }

  /** Runs {@code step} on each entry in turn; returns the entries it reported as done. */
  private static Future<List<Entry>> each(List<Entry> entries, Function<Entry, Future<Boolean>> step) {
    List<Entry> done = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (Entry entry : entries) {
      chain = chain.compose(v -> step.apply(entry).map(ok -> {
        if (ok) {
          done.add(entry);
        }
        return null;
      }));
    }
    return chain.map(v -> done);
  }
}
