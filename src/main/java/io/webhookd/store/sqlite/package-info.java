/**
 * The embedded SQLite adapter of the inbox store: one file under the data directory, WAL mode, a
 * single writer thread that group-commits, a thread that syncs each commit to disk before it is
 * answered while the writer goes on, and a checkpointer that copies the WAL into the file and
 * sees that the WAL starts over even while commits never pause.
 */
package io.webhookd.store.sqlite;
