package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;
import java.util.List;
import java.util.Locale;

/**
 * Texts waiting to be sent, and their state: queued, sending, sent, failed, cancelled, blocked.
 * Every enqueue carries a dedup key, so doing it again (a redelivered or replayed event) queues
 * nothing twice.
 */
public final class OutboundQueue {

  /** What is being sent, which decides whether an opted-out number may receive it. */
  public enum Kind {
    REPLY, HELP, OPT_OUT_CONFIRMATION, OPT_IN_CONFIRMATION, CAMPAIGN, FOLLOW_UP, AUTOMATION;

    public String dbValue() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Only the one confirmation of an opt-out may go to a number that opted out. */
    public boolean allowedAfterOptOut() {
      return this == OPT_OUT_CONFIRMATION;
    }
  }

  /** A claimed text, ready to send. */
  public record Outbound(long id, Kind kind, String to, String from, String body, Long campaignId, int attempts) {
  }

  private OutboundQueue() {
  }

  /** @return whether it was queued now (false: the same dedup key was queued before) */
  public static Future<Boolean> enqueue(Tx tx, String dedupKey, Kind kind, String to, String from, String body,
      Long campaignId, long now) {
    return tx.update("""
        INSERT INTO outbound_messages
          (dedup_key, kind, to_number, from_number, body, campaign_id, state, attempts, due_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
        ON CONFLICT (dedup_key) DO NOTHING""",
        dedupKey, kind.dbValue(), to, from, body, campaignId, now, now, now).map(rows -> rows == 1);
  }

  /** Cancels every text still waiting for {@code phone}; returns how many. */
  public static Future<Integer> cancelPending(Tx tx, String phone, String reason, long now) {
    return tx.update("""
        UPDATE outbound_messages SET state = 'cancelled', last_error = ?, updated_at = ?
        WHERE to_number = ? AND state = 'queued'""", reason, now, phone);
  }

  /**
   * Claims due texts for {@code owner}. The outer state check makes a claim that raced another
   * instance's claim take nothing twice.
   */
  public static Future<List<Outbound>> claim(Tx tx, String owner, long now, long leaseUntil, int limit) {
    return tx.query("""
            UPDATE outbound_messages
            SET state = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
            WHERE state = 'queued' AND due_at <= ? AND id IN (
              SELECT id FROM outbound_messages WHERE state = 'queued' AND due_at <= ? ORDER BY due_at, id LIMIT ?)
            RETURNING id, kind, to_number, from_number, body, campaign_id, attempts""",
            owner, leaseUntil, now, now, now, limit)
        .map(rows -> rows.stream().map(OutboundQueue::outbound).toList());
  }

  /** Texts left sending by an instance that died are queued again once their lease expired. */
  public static Future<Integer> requeueExpired(Tx tx, long now) {
    return tx.update("""
        UPDATE outbound_messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE state = 'sending' AND lease_until < ?""", now, now);
  }

  public static Future<Void> sent(Tx tx, Outbound message, String providerMessageId, long now) {
    return tx.update("""
            UPDATE outbound_messages SET state = 'sent', provider_message_id = ?, sent_at = ?, updated_at = ?,
              lease_owner = NULL, lease_until = NULL
            WHERE id = ?""", providerMessageId, now, now, message.id())
        .compose(v -> message.campaignId() == null ? Future.succeededFuture(0) : tx.update("""
            UPDATE campaign_recipients SET sent_at = ? WHERE campaign_id = ? AND phone = ? AND sent_at IS NULL""",
            now, message.campaignId(), message.to()))
        .mapEmpty();
  }

  /** Ends the text in {@code state} (failed, blocked) with the reason. */
  public static Future<Void> finish(Tx tx, Outbound message, String state, String reason, long now) {
    return tx.update("""
        UPDATE outbound_messages SET state = ?, last_error = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL
        WHERE id = ?""", state, reason, now, message.id()).mapEmpty();
  }

  public static Future<Void> retryAt(Tx tx, Outbound message, long dueAt, String error, long now) {
    return tx.update("""
        UPDATE outbound_messages SET state = 'queued', due_at = ?, last_error = ?, updated_at = ?,
          lease_owner = NULL, lease_until = NULL
        WHERE id = ?""", dueAt, error, now, message.id()).mapEmpty();
  }

  private static Outbound outbound(SqlRow row) {
    return new Outbound(row.longValue("id"), Kind.valueOf(row.string("kind").toUpperCase(Locale.ROOT)),
        row.string("to_number"), row.string("from_number"), row.string("body"), row.longValue("campaign_id"),
        row.intValue("attempts"));
  }
}
