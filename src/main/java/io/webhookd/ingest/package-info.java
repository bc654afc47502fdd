/**
 * Ingest: the public HTTP listener, signature verification over the raw bytes (three schemes),
 * and reading the three envelope generations into one {@link io.webhookd.event.WebhookEvent}.
 */
package io.webhookd.ingest;
