/**
 * The normalised webhook event that every stage passes along: ingest builds it, the dedup guard and
 * the store key it by (source, event id), processing consumes it.
 */
package io.webhookd.event;
