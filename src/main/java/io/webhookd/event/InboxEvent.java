package io.webhookd.event;

/**
 * A webhook event once it is durably stored.
 *
 * @param inboxId the inbox row id
 * @param attempt which processing attempt this claim is, from 1
 * @param arrival set only for a first attempt in the commit that stores the event, where the store
 *                leaves the arrival's audit entries to be written with the attempt's outcome, in
 *                one statement; null otherwise
 */
public record InboxEvent(long inboxId, int attempt, WebhookEvent event, Arrival arrival) {

  public InboxEvent(long inboxId, int attempt, WebhookEvent event) {
    this(inboxId, attempt, event, null);
  }

  /**
   * An arrival not audited yet: received by {@code receivedBy} (an instance) and claimed on arrival
   * at {@code claimedAt}, epoch milliseconds.
   */
  public record Arrival(String receivedBy, long claimedAt) {
  }
}
