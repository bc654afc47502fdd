/**
 * Ingest: the public HTTP listener, signature verification over the raw bytes (three schemes),
 * and reading the three envelope generations into one {@link io.webhookd.event.WebhookEvent}.
 * {@link io.webhookd.ingest.WebhookSigner} signs bodies the way senders do, for the operator's test
 * deliveries.
 */
package io.webhookd.ingest;
