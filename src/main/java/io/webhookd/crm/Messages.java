package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.Tx;
import java.util.Map;

/**
 * Text messages, one row per provider message id. The status only moves up, so a late event
 * never undoes a newer one: a {@code message.delivered} arriving first creates the message as
 * delivered, and the {@code message.sent} that arrives after it leaves it so. A failure keeps its
 * error code. Fields an earlier event lacked are filled in by later ones. A message's contact is
 * the one owning the other party's number when the message is first written.
 */
public final class Messages {

  /** Rank of each status; a status replaces another only with a higher rank. */
  static final Map<String, Integer> RANK = Map.of(
      "received", 1, "sent", 1, "delivered", 2, "undelivered", 3, "failed", 3);

  /** The message's row, its contact named by the other party's number: in the values, and returned. */
  private static final String UPSERT = """
      INSERT INTO messages
        (provider_id, direction, contact_id, from_number, to_numbers, body, media_urls, status, status_rank,
         error_code, conversation_id, phone_number_id, user_id, sent_at, created_at, updated_at)
      VALUES (?, ?, %1$s, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (provider_id) DO UPDATE SET
        status = CASE WHEN excluded.status_rank > messages.status_rank THEN excluded.status ELSE messages.status END,
        error_code = CASE WHEN excluded.status_rank >= messages.status_rank AND excluded.error_code IS NOT NULL
                          THEN excluded.error_code ELSE messages.error_code END,
        status_rank = CASE WHEN excluded.status_rank > messages.status_rank THEN excluded.status_rank
                           ELSE messages.status_rank END,
        direction = COALESCE(messages.direction, excluded.direction),
        contact_id = COALESCE(messages.contact_id, excluded.contact_id),
        from_number = COALESCE(messages.from_number, excluded.from_number),
        to_numbers = COALESCE(messages.to_numbers, excluded.to_numbers),
        body = COALESCE(messages.body, excluded.body),
        media_urls = COALESCE(messages.media_urls, excluded.media_urls),
        conversation_id = COALESCE(messages.conversation_id, excluded.conversation_id),
        phone_number_id = COALESCE(messages.phone_number_id, excluded.phone_number_id),
        user_id = COALESCE(messages.user_id, excluded.user_id),
        sent_at = COALESCE(messages.sent_at, excluded.sent_at),
        updated_at = excluded.updated_at
      RETURNING %1$s AS contact_id""".formatted(Contacts.OWNER_OF);

  /** What one event says about a message; {@code phone} is the other party's number (E.164), if known. */
  public record Facts(String providerId, String direction, String phone, String from, String to,
      String body, String mediaUrls, String status, String errorCode, String conversationId,
      String phoneNumberId, String userId, Long sentAt) {
  }

  private Messages() {
  }

  /** Writes what the event says; returns the id of the contact owning {@code m.phone()}, created when none does. */
  public static Future<Long> upsert(Tx tx, Facts m, long now) {
    return tx.query(UPSERT,
        m.providerId(), m.direction(), m.phone(), m.from(), m.to(), m.body(), m.mediaUrls(), m.status(),
        RANK.getOrDefault(m.status(), 0), m.errorCode(), m.conversationId(), m.phoneNumberId(), m.userId(),
        m.sentAt(), now, now, m.phone())
        .compose(rows -> Contacts.ownerOrNew(tx, "messages", m.providerId(), m.phone(), rows, now));
  }
}
