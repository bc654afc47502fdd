/**
 * The embedded SQLite adapter of the inbox store: one file under the data directory, WAL mode, and
 * a single writer thread that group-commits.
 */
package io.webhookd.store.sqlite;
