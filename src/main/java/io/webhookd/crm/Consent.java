package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.Tx;

/**
 * Opting out and back in, as the law asks (US TCPA, CTIA): the number's consent changes, every
 * text still waiting for it is cancelled, a compliance record proves when and how, and one
 * confirmation is queued. Keyed by the source event, so a redelivered event changes nothing twice.
 */
public final class Consent {

  private Consent() {
  }

  /** @return whether this event opted the number out (false: it was recorded before) */
  public static Future<Boolean> optOut(Tx tx, String phone, Long contactId, String keyword, String sourceEventId,
      String fromLine, String confirmation, long now) {
    return record(tx, phone, contactId, "opt_out", keyword, sourceEventId, now).compose(recorded -> {
      if (!recorded) {
        return Future.succeededFuture(false);
      }
      return tx.update("""
              UPDATE contact_phones SET opted_out = 1, consent_changed_at = ?, updated_at = ? WHERE phone = ?""",
              now, now, phone)
          .compose(v -> OutboundQueue.cancelPending(tx, phone, "recipient opted out", now))
          .compose(v -> OutboundQueue.enqueue(tx, "opt-out-confirmation:" + sourceEventId,
              OutboundQueue.Kind.OPT_OUT_CONFIRMATION, phone, fromLine, confirmation, null, now))
          .map(true);
    });
  }

  /** @return whether this event opted the number back in */
  public static Future<Boolean> optIn(Tx tx, String phone, Long contactId, String keyword, String sourceEventId,
      String fromLine, String confirmation, long now) {
    return record(tx, phone, contactId, "opt_in", keyword, sourceEventId, now).compose(recorded -> {
      if (!recorded) {
        return Future.succeededFuture(false);
      }
      return tx.update("""
              UPDATE contact_phones SET opted_out = 0, consent_changed_at = ?, updated_at = ? WHERE phone = ?""",
              now, now, phone)
          .compose(v -> OutboundQueue.enqueue(tx, "opt-in-confirmation:" + sourceEventId,
              OutboundQueue.Kind.OPT_IN_CONFIRMATION, phone, fromLine, confirmation, null, now))
          .map(true);
    });
  }

  private static Future<Boolean> record(Tx tx, String phone, Long contactId, String action, String keyword,
      String sourceEventId, long now) {
    return tx.update("""
        INSERT INTO compliance_records (phone, contact_id, action, keyword, source_event_id, at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (source_event_id, action) DO NOTHING""",
        phone, contactId, action, keyword, sourceEventId, now).map(rows -> rows == 1);
  }
}
