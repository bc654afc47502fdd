package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.SqlRow;
import io.webhookd.store.Tx;

/**
 * Campaigns: a text sent to a list of recipients, the replies that come back within the
 * campaign's response window (each recipient's first reply recorded once, classified), and a
 * follow-up queued once for a recipient who replied with interest.
 */
public final class Campaigns {

  /** The campaign a reply answers, if any. */
  public record Answered(long campaignId, String name, String followUp, String fromLine) {
  }

  /** A campaign as loaded. */
  public record Campaign(long id, String name, String message, String followUp, long responseWindowMillis,
      String fromLine) {
  }

  private Campaigns() {
  }

  /** Creates the campaign, or returns the existing one of that name unchanged. */
  public static Future<Campaign> create(Tx tx, String name, String message, String followUp,
      long responseWindowMillis, String fromLine, long now) {
    return tx.update("""
            INSERT INTO campaigns (name, message, follow_up, response_window_ms, from_number, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (name) DO NOTHING""", name, message, followUp, responseWindowMillis, fromLine, now)
        .compose(v -> tx.query("""
            SELECT id, name, message, follow_up, response_window_ms, from_number FROM campaigns WHERE name = ?""", name))
        .map(rows -> {
          SqlRow row = rows.get(0);
          return new Campaign(row.longValue("id"), row.string("name"), row.string("message"),
              row.string("follow_up"), row.longValue("response_window_ms"), row.string("from_number"));
        });
  }

  /**
   * Adds a recipient and queues the campaign text to them, once.
   * @return whether the recipient is new to the campaign
   */
  public static Future<Boolean> addRecipient(Tx tx, Campaign campaign, String phone, long now) {
    return Contacts.findOrCreate(tx, phone, now)
        .compose(contactId -> tx.update("""
                INSERT INTO campaign_recipients (campaign_id, phone, contact_id, queued_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (campaign_id, phone) DO NOTHING""", campaign.id(), phone, contactId, now)
            .compose(rows -> rows == 0 ? Future.succeededFuture(false)
                : OutboundQueue.enqueue(tx, "campaign:" + campaign.id() + ":" + phone, OutboundQueue.Kind.CAMPAIGN,
                    phone, campaign.fromLine(), campaign.message(), campaign.id(), now).map(true)));
  }

  /** The campaign whose window holds a reply from {@code phone} at {@code at}: the latest sent. */
  public static Future<Answered> answeredBy(Tx tx, String phone, long at) {
    return tx.query("""
            SELECT c.id, c.name, c.follow_up, c.from_number
            FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
            WHERE r.phone = ? AND r.sent_at IS NOT NULL AND r.sent_at <= ? AND ? <= r.sent_at + c.response_window_ms
            ORDER BY r.sent_at DESC LIMIT 1""", phone, at, at)
        .map(rows -> rows.isEmpty() ? null : new Answered(rows.get(0).longValue("id"), rows.get(0).string("name"),
            rows.get(0).string("follow_up"), rows.get(0).string("from_number")));
  }

  /**
   * Records the reply as the recipient's response, once; an interested reply queues the follow-up
   * once.
   * @return whether this reply was recorded (false: the recipient had answered before)
   */
  public static Future<Boolean> recordResponse(Tx tx, Answered campaign, String phone, String messageId,
      Keywords.Reply reply, String body, long at, long now) {
    return tx.update("""
            INSERT INTO campaign_responses (campaign_id, phone, message_provider_id, classification, body, responded_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (campaign_id, phone) DO NOTHING""",
            campaign.campaignId(), phone, messageId, reply.dbValue(), body, at)
        .compose(rows -> {
          if (rows == 0) {
            return Future.succeededFuture(false);
          }
          if (reply != Keywords.Reply.INTERESTED || campaign.followUp() == null || campaign.followUp().isBlank()) {
            return Future.succeededFuture(true);
          }
          return OutboundQueue.enqueue(tx, "follow-up:" + campaign.campaignId() + ":" + phone,
              OutboundQueue.Kind.FOLLOW_UP, phone, campaign.fromLine(), campaign.followUp(), campaign.campaignId(), now)
              .map(true);
        });
  }
}
