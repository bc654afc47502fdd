package io.webhookd.web;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileProps;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Notices when files change (their modification time or size), by asking the file system on a
 * timer without blocking the event loop, and calls back once per change.
 */
public final class FileChangeWatcher {

  private final Vertx vertx;
  private final List<String> paths;
  private final Runnable onChange;
  private List<String> lastSeen;
  private long timer = -1;

  public FileChangeWatcher(Vertx vertx, List<String> paths, Runnable onChange) {
    this.vertx = vertx;
    this.paths = List.copyOf(paths);
    this.onChange = onChange;
  }

  /** Takes the files' current state as the baseline, then checks every {@code everyMillis}. */
  public Future<Void> start(long everyMillis) {
    return snapshot().map(state -> {
      lastSeen = state;
      timer = vertx.setPeriodic(everyMillis, id -> check());
      return null;
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void check() {
    snapshot().onSuccess(state -> {
      if (!Objects.equals(state, lastSeen)) {
        lastSeen = state;
        onChange.run();
      }
    });
  }

  /** Modification time and size of each file; a missing file counts as its own state. */
  private Future<List<String>> snapshot() {
    List<Future<String>> states = new ArrayList<>();
    for (String path : paths) {
      states.add(vertx.fileSystem().props(path)
          .map((FileProps props) -> props.lastModifiedTime() + ":" + props.size())
          .otherwise("missing"));
    }
    return Future.all(states).map(all -> states.stream().map(Future::result).toList());
  }
}
