package io.webhookd.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Every setting of the service, loaded and checked once at start-up by {@link SettingsLoader}.
 */
public record Settings(
    Http http,
    Path dataDir,
    OpenPhone openphone,
    Store store,
    Dedup dedup,
    Processing processing) {

  /** The public webhook listener. {@code instances} 0 means one verticle per core. */
  public record Http(String host, int port, int instances, long maxBodyBytes, Duration shutdownTimeout) {
  }

  /**
   * How OpenPhone webhooks are authenticated. Several secrets may be valid at once so that a secret
   * can be rotated without refusing deliveries signed with the old one.
   */
  public record OpenPhone(List<String> secrets, Duration timestampTolerance) {
    @Override
    public String toString() {
      return "OpenPhone[secrets=" + secrets.size() + " configured, timestampTolerance="
          + timestampTolerance + "]";
    }
  }

  /** The embedded SQLite inbox and its group commit. */
  public record Store(
      SqliteSynchronous sqliteSynchronous, int batchSize, Duration batchDelay, int queueCapacity) {
  }

  /** The in-process tier of the dedup guard. */
  public record Dedup(long cacheSize, Duration ttl) {
  }

  /** The worker verticles that process stored events. */
  public record Processing(int workers) {
  }

  /** SQLite's {@code PRAGMA synchronous}; FULL syncs the WAL on every commit. */
  public enum SqliteSynchronous { FULL, NORMAL }
}
