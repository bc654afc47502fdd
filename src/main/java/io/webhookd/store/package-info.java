/**
 * The durable inbox behind one port, {@link io.webhookd.store.InboxStore}, with one adapter per
 * database ({@code sqlite} is the embedded default). Each adapter commits concurrent appends
 * together (group commit) and owns its schema through Flyway migrations.
 *
 * <p>What is written once for every adapter goes through {@link io.webhookd.store.Tx} in the SQL
 * both databases share: the processing transitions ({@link io.webhookd.store.InboxTransitions}),
 * and the operator's queries and actions ({@link io.webhookd.store.DeadLetterQueue} to list,
 * replay and discard dead letters; {@link io.webhookd.store.EventLog} for events and their audit
 * trails; {@link io.webhookd.store.SchemaHistory} for the applied migrations).
 */
package io.webhookd.store;
