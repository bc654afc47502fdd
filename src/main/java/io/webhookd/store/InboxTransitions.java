package io.webhookd.store;

import io.vertx.core.Future;
import io.webhookd.event.InboxEvent;
import java.time.Instant;

/**
 * What happens to a claimed event after its handler ran, written once for every adapter through a
 * {@link Tx}: it runs in the same transaction as the handler's effects, so effects and status
 * change commit together. Each change is checked against the claim (status and owner): an owner
 * that lost its claim changes nothing, and its transaction rolls back.
 */
public final class InboxTransitions {

  private static final String FINISH = """
      UPDATE inbox_events SET status = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
      WHERE id = ? AND status = 'processing' AND lease_owner = ?""";
  private static final String RETRY = """
      UPDATE inbox_events
      SET status = 'pending', due_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?,
          first_failed_at = COALESCE(first_failed_at, ?), last_failed_at = ?, updated_at = ?
      WHERE id = ? AND status = 'processing' AND lease_owner = ?""";
  private static final String DEAD = """
      UPDATE inbox_events
      SET status = 'dead', lease_owner = NULL, lease_until = NULL, last_error = ?,
          first_failed_at = COALESCE(first_failed_at, ?), last_failed_at = ?, updated_at = ?
      WHERE id = ? AND status = 'processing' AND lease_owner = ?""";
  private static final String DEAD_LETTER = """
      INSERT INTO dead_letters
        (inbox_id, source, event_id, event_type, error, stack_trace, attempts, first_failed_at,
         last_failed_at, dead_at)
      SELECT id, source, event_id, event_type, ?, ?, attempts, first_failed_at, last_failed_at, ?
      FROM inbox_events WHERE id = ?
      ON CONFLICT (inbox_id) DO UPDATE
        SET error = excluded.error, stack_trace = excluded.stack_trace, attempts = excluded.attempts,
            last_failed_at = excluded.last_failed_at, dead_at = excluded.dead_at,
            resolved_at = NULL, resolution = NULL, resolved_by = NULL""";
  static final String AUDIT = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)""";
  /** An arrival's entries (received, claimed) and the outcome of its first attempt. */
  private static final String AUDIT_WITH_ARRIVAL = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      VALUES (?, ?, ?, ?, 'received', 0, ?, ?), (?, ?, ?, ?, 'processing', ?, NULL, ?), (?, ?, ?, ?, ?, ?, ?, ?)""";

  private InboxTransitions() {
  }

  /** Processed, or ignored (no handler for its type). */
  public static Future<Void> finish(Tx tx, InboxEvent event, String owner, InboxStatus status, String detail) {
    long now = System.currentTimeMillis();
    // Both at once, one round trip: should the claim turn out lost, the failure rolls the audit
    // row back with everything else.
    Future<Integer> finished = tx.update(FINISH, status.dbValue(), now, event.inboxId(), owner);
    Future<Void> audited = audit(tx, event, status.dbValue(), detail, owner, now);
    return claimed(finished, event, owner).compose(v -> audited);
  }

  /** Pending again, due at {@code dueAt}, its failure kept. */
  public static Future<Void> retryLater(Tx tx, InboxEvent event, String owner, long dueAt, String error) {
    long now = System.currentTimeMillis();
    return claimed(tx.update(RETRY, dueAt, error, now, now, now, event.inboxId(), owner), event, owner)
        .compose(v -> audit(tx, event, "retry_scheduled", error + " (due " + Instant.ofEpochMilli(dueAt) + ")", owner, now));
  }

  /** Into the dead-letter queue with its failure, for an operator to replay or discard. */
  public static Future<Void> deadLetter(Tx tx, InboxEvent event, String owner, String error, String stackTrace) {
    long now = System.currentTimeMillis();
    return claimed(tx.update(DEAD, error, now, now, now, event.inboxId(), owner), event, owner)
        .compose(v -> tx.update(DEAD_LETTER, error, stackTrace, now, event.inboxId()))
        .compose(v -> audit(tx, event, "dead_lettered", error, owner, now));
  }

  /** One entry; with the arrival's entries before it when the event carries an arrival not audited yet. */
  public static Future<Void> audit(Tx tx, InboxEvent event, String state, String detail, String actor, long at) {
    long id = event.inboxId();
    String source = event.event().source();
    String eventId = event.event().eventId();
    InboxEvent.Arrival arrival = event.arrival();
    if (arrival == null) {
      return tx.update(AUDIT, id, source, eventId, at, state, event.attempt(), detail, actor).mapEmpty();
    }
    return tx.update(AUDIT_WITH_ARRIVAL,
        id, source, eventId, event.event().receivedAt(), event.event().scheme(), arrival.receivedBy(),
        id, source, eventId, arrival.claimedAt(), event.attempt(), actor,
        id, source, eventId, at, state, event.attempt(), detail, actor).mapEmpty();
  }

  private static Future<Void> claimed(Future<Integer> update, InboxEvent event, String owner) {
    return update.compose(rows -> rows == 1 ? Future.succeededFuture()
        : Future.failedFuture(new ClaimLostException(event.inboxId(), owner)));
  }
}
