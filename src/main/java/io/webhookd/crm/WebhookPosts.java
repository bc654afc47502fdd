package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Events to POST to URLs (automation rules), delivered with retries like texts. */
public final class WebhookPosts {

  /** A claimed delivery. */
  public record Post(long id, String url, String body, int attempts) {
  }

  private WebhookPosts() {
  }

  public static Future<Boolean> enqueue(Tx tx, String dedupKey, String url, InboxEvent event, long now) {
    return tx.update("""
        INSERT INTO outbound_webhooks (dedup_key, url, body, state, attempts, due_at, created_at, updated_at)
        VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)
        ON CONFLICT (dedup_key) DO NOTHING""",
        dedupKey, url, new String(event.event().body(), StandardCharsets.UTF_8), now, now, now).map(rows -> rows == 1);
  }

  public static Future<List<Post>> claim(Tx tx, String owner, long now, long leaseUntil, int limit) {
    return tx.query("""
            UPDATE outbound_webhooks
            SET state = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
            WHERE state = 'queued' AND due_at <= ? AND id IN (
              SELECT id FROM outbound_webhooks WHERE state = 'queued' AND due_at <= ? ORDER BY due_at, id LIMIT ?)
            RETURNING id, url, body, attempts""", owner, leaseUntil, now, now, now, limit)
        .map(rows -> rows.stream().map(WebhookPosts::post).toList());
  }

  public static Future<Integer> requeueExpired(Tx tx, long now) {
    return tx.update("""
        UPDATE outbound_webhooks SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
        WHERE state = 'sending' AND lease_until < ?""", now, now);
  }

  public static Future<Void> delivered(Tx tx, Post post, long now) {
    return tx.update("""
        UPDATE outbound_webhooks SET state = 'delivered', delivered_at = ?, updated_at = ?, lease_owner = NULL,
          lease_until = NULL WHERE id = ?""", now, now, post.id()).mapEmpty();
  }

  public static Future<Void> failed(Tx tx, Post post, String error, long now) {
    return tx.update("""
        UPDATE outbound_webhooks SET state = 'failed', last_error = ?, updated_at = ?, lease_owner = NULL,
          lease_until = NULL WHERE id = ?""", error, now, post.id()).mapEmpty();
  }

  public static Future<Void> retryAt(Tx tx, Post post, long dueAt, String error, long now) {
    return tx.update("""
        UPDATE outbound_webhooks SET state = 'queued', due_at = ?, last_error = ?, updated_at = ?,
          lease_owner = NULL, lease_until = NULL WHERE id = ?""", dueAt, error, now, post.id()).mapEmpty();
  }

  private static Post post(SqlRow row) {
    return new Post(row.longValue("id"), row.string("url"), row.string("body"), row.intValue("attempts"));
  }
}
