/**
 * The PostgreSQL adapter of the inbox store (vertx-pg-client), which several instances share:
 * group-committed appends that claim new events and run their first attempts in the same
 * transaction, handler transactions run together in groups, partition leases and
 * {@code FOR UPDATE SKIP LOCKED} claims.
 */
package io.webhookd.store.postgres;
