package io.webhookd.store;

/**
 * What a store's group commit tells about where an acknowledgement's time goes: waiting for a
 * batch, running it, and (SQLite) waiting for its commit to reach the disk. Called on the store's
 * threads (the SQLite writer and WAL syncer, PostgreSQL's event loops), for every batch:
 * implementations only record.
 */
public interface BatchTimings {

  /** Records nothing. */
  BatchTimings NONE = new BatchTimings() {
    @Override
    public void waited(long nanos) {
    }

    @Override
    public void committed(int tasks, long nanos) {
    }

    @Override
    public void synced(long nanos) {
    }
  };

  /** One task, from being queued to the start of its batch (once, even when the batch is run again task by task). */
  void waited(long nanos);

  /** One batch of {@code tasks}, from its start to its commit. */
  void committed(int tasks, long nanos);

  /** One commit, to its WAL frames on disk (only when commits are synced off the writer, as with synchronous=FULL). */
  void synced(long nanos);
}
