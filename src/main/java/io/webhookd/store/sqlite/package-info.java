/**
 * The embedded SQLite adapter of the inbox store: one file under the data directory, WAL mode, and
 * a single writer thread that group-commits, and a thread that syncs each commit to disk before it
 * is answered while the writer goes on.
 */
package io.webhookd.store.sqlite;
