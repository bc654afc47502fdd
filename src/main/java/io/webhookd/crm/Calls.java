package io.webhookd.crm;

import io.vertx.core.Future;
import io.webhookd.store.Tx;
import java.util.Map;

/**
 * Calls, one row per call, merged from its events in whatever order they arrive: each event fills
 * in what it knows (a recording, a voicemail, a summary or a transcript attaches whenever it comes)
 * and the status only moves up.
 */
public final class Calls {

  static final Map<String, Integer> RANK = Map.of(
      "ringing", 1, "answered", 2, "forwarded", 3, "missed", 4, "completed", 4);

  /** The call's row, its contact named by the other party's number: in the values, and returned. */
  private static final String UPSERT = """
      INSERT INTO calls
        (provider_id, direction, contact_id, from_number, to_number, status, status_rank, conversation_id,
         phone_number_id, user_id, started_at, answered_at, completed_at, forwarded_to, recording_url,
         recording_duration, voicemail_url, voicemail_duration, summary, transcript, created_at, updated_at)
      VALUES (?, ?, %1$s, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (provider_id) DO UPDATE SET
        status = CASE WHEN excluded.status_rank > calls.status_rank THEN excluded.status ELSE calls.status END,
        status_rank = CASE WHEN excluded.status_rank > calls.status_rank THEN excluded.status_rank
                           ELSE calls.status_rank END,
        direction = COALESCE(calls.direction, excluded.direction),
        contact_id = COALESCE(calls.contact_id, excluded.contact_id),
        from_number = COALESCE(calls.from_number, excluded.from_number),
        to_number = COALESCE(calls.to_number, excluded.to_number),
        conversation_id = COALESCE(calls.conversation_id, excluded.conversation_id),
        phone_number_id = COALESCE(calls.phone_number_id, excluded.phone_number_id),
        user_id = COALESCE(calls.user_id, excluded.user_id),
        started_at = COALESCE(calls.started_at, excluded.started_at),
        answered_at = COALESCE(excluded.answered_at, calls.answered_at),
        completed_at = COALESCE(excluded.completed_at, calls.completed_at),
        forwarded_to = COALESCE(excluded.forwarded_to, calls.forwarded_to),
        recording_url = COALESCE(excluded.recording_url, calls.recording_url),
        recording_duration = COALESCE(excluded.recording_duration, calls.recording_duration),
        voicemail_url = COALESCE(excluded.voicemail_url, calls.voicemail_url),
        voicemail_duration = COALESCE(excluded.voicemail_duration, calls.voicemail_duration),
        summary = COALESCE(excluded.summary, calls.summary),
        transcript = COALESCE(excluded.transcript, calls.transcript),
        updated_at = excluded.updated_at
      RETURNING %1$s AS contact_id""".formatted(Contacts.OWNER_OF);

  /** What one event says about a call; nulls are "not said"; {@code phone} is the other party's number (E.164). */
  public record Facts(String providerId, String direction, String phone, String from, String to,
      String status, String conversationId, String phoneNumberId, String userId, Long startedAt,
      Long answeredAt, Long completedAt, String forwardedTo, String recordingUrl, Integer recordingDuration,
      String voicemailUrl, Integer voicemailDuration, String summary, String transcript) {
  }

  private Calls() {
  }

  /** Writes what the event says; returns the id of the contact owning {@code c.phone()}, created when none does. */
  public static Future<Long> upsert(Tx tx, Facts c, long now) {
    int rank = c.status() == null ? 0 : RANK.getOrDefault(c.status(), 0);
    return tx.query(UPSERT,
        c.providerId(), c.direction(), c.phone(), c.from(), c.to(), c.status(), rank, c.conversationId(),
        c.phoneNumberId(), c.userId(), c.startedAt(), c.answeredAt(), c.completedAt(), c.forwardedTo(),
        c.recordingUrl(), c.recordingDuration(), c.voicemailUrl(), c.voicemailDuration(), c.summary(),
        c.transcript(), now, now, c.phone())
        .compose(rows -> Contacts.ownerOrNew(tx, "calls", c.providerId(), c.phone(), rows, now));
  }
}
