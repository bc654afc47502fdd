/**
 * The durable inbox behind one port, {@link io.webhookd.store.InboxStore}, with one adapter per
 * database ({@code sqlite} is the embedded default). Each adapter commits concurrent appends
 * together (group commit) and owns its schema through Flyway migrations.
 */
package io.webhookd.store;
