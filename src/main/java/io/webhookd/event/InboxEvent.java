package io.webhookd.event;

/**
 * A webhook event once it is durably stored.
 *
 * @param inboxId the inbox row id
 * @param attempt which processing attempt this claim is, from 1
 */
public record InboxEvent(long inboxId, int attempt, WebhookEvent event) {
}
