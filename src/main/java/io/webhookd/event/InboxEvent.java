package io.webhookd.event;

/**
 * A webhook event once it is durably stored: the inbox row id plus the event.
 */
public record InboxEvent(long inboxId, WebhookEvent event) {
}
