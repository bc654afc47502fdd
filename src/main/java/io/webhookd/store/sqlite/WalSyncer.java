package io.webhookd.store.sqlite;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes commits durable off the writer thread. The writer's connection commits without syncing
 * (SQLite's {@code synchronous=NORMAL} in WAL mode: the commit's frames are written to the WAL file,
 * not yet forced to disk) and hands what its commit answers to this thread, which forces the WAL
 * file and only then lets those answers go. Nobody hears "stored" before the WAL frames holding it
 * are on disk, as with {@code synchronous=FULL}; but the writer runs the next batch while the disk
 * syncs the last one, and one sync covers every commit made while the previous sync ran.
 *
 * <p>Forcing the file through a descriptor of our own is enough: a sync flushes the file, whoever
 * wrote it. SQLite itself still syncs where {@code NORMAL} needs it (the WAL before a checkpoint,
 * the database file after one, the WAL header when the WAL restarts), so the file stays consistent.
 */
final class WalSyncer {

  private static final Logger LOG = LoggerFactory.getLogger(WalSyncer.class);

  /** Forces a file to disk; closed when its user stops. */
  interface Force extends AutoCloseable {
    void force() throws IOException;

    @Override
    default void close() throws IOException {
    }
  }

  /** A file of the database forced through a descriptor of our own, opened at the first sync (it exists by then). */
  static final class SyncedFile implements Force {
    private final Path file;
    private FileChannel channel;

    SyncedFile(Path file) {
      this.file = file;
    }

    /** The WAL file beside a database. */
    static SyncedFile walOf(Path database) {
      return new SyncedFile(database.resolveSibling(database.getFileName() + "-wal"));
    }

    @Override
    public void force() throws IOException {
      if (channel == null) {
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
      }
      // Data and the size it needs: what fdatasync gives, and what SQLite asks of it.
      channel.force(false);
    }

    @Override
    public void close() throws IOException {
      if (channel != null) {
        channel.close();
      }
    }
  }

  /** What one commit answers once it is durable, or if the sync fails. */
  private record Waiting(Runnable onDurable, Consumer<Throwable> onLost) {
  }

  private static final Waiting STOP = new Waiting(() -> { }, e -> { });

  private final Force force;
  private final LinkedBlockingQueue<Waiting> queue = new LinkedBlockingQueue<>();
  private final Thread thread;

  WalSyncer(Force force) {
    this.force = force;
    this.thread = new Thread(this::loop, "sqlite-wal-sync");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Called by the writer right after a commit: {@code onDurable} runs once the commit is on disk. */
  void afterCommit(Runnable onDurable, Consumer<Throwable> onLost) {
    queue.add(new Waiting(onDurable, onLost));
  }

  /** Syncs and answers everything handed over so far, then stops. */
  void close() {
    queue.add(STOP);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(60));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void loop() {
    List<Waiting> batch = new ArrayList<>();
    boolean stop = false;
    try {
      while (!stop) {
        batch.add(queue.take());
        queue.drainTo(batch);
        stop = batch.remove(STOP);
        if (batch.isEmpty()) {
          continue;
        }
        sync(batch);
        batch.clear();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      List<Waiting> left = new ArrayList<>(batch);
      queue.drainTo(left);
      left.remove(STOP);
      sync(left);
    } finally {
      try {
        force.close();
      } catch (IOException e) {
        LOG.debug("closing the WAL file failed: {}", e.getMessage());
      }
    }
  }

  private void sync(List<Waiting> batch) {
    Exception failure = null;
    try {
      force.force();
    } catch (IOException | RuntimeException e) {
      // Whatever went wrong, these answers are not known to be durable; the thread goes on.
      failure = e;
    }
    if (failure == null) {
      batch.forEach(waiting -> waiting.onDurable().run());
      return;
    }
    // The commits are visible but perhaps not on disk: their senders hear a failure and send
    // again, and the store's unique key answers those retries as duplicates.
    LOG.error("syncing the SQLite WAL failed: {}", failure.getMessage());
    for (Waiting waiting : batch) {
      waiting.onLost().accept(failure);
    }
  }
}
