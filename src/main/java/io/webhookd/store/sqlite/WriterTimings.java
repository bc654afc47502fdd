package io.webhookd.store.sqlite;

/**
 * What the SQLite writer tells about where an acknowledgement's time goes: waiting for a batch,
 * running it, and waiting for its commit to reach the disk. Called on the writer's and the WAL
 * syncer's threads, for every batch: implementations only record.
 */
public interface WriterTimings {

  /** Records nothing. */
  WriterTimings NONE = new WriterTimings() {
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
