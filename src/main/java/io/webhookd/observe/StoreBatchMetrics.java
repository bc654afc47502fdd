package io.webhookd.observe;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.webhookd.store.BatchTimings;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A store's group commit as histograms, so that an operator can tell a busy store (waits for a
 * batch grow) from a slow one (batches or, on SQLite, syncs grow) before acknowledgements slow
 * down. Prometheus names: {@code webhook_sqlite_wait_seconds}, {@code webhook_sqlite_batch_seconds},
 * {@code webhook_sqlite_sync_seconds}, {@code webhook_sqlite_batch_tasks} for the SQLite writer;
 * {@code webhook_pg_append_wait_seconds}, {@code webhook_pg_append_batch_seconds},
 * {@code webhook_pg_append_batch_tasks} for PostgreSQL's appends.
 */
public final class StoreBatchMetrics implements BatchTimings {

  /** Finer at the low end than the acknowledgement's buckets: a healthy stage takes well under a millisecond. */
  private static final Duration[] BUCKETS = {
      Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
      Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1),
      Duration.ofSeconds(5)};

  private final Timer wait;
  private final Timer batch;
  private final Timer sync;
  private final DistributionSummary tasks;

  private StoreBatchMetrics(Timer wait, Timer batch, Timer sync, DistributionSummary tasks) {
    this.wait = wait;
    this.batch = batch;
    this.sync = sync;
    this.tasks = tasks;
  }

  /** The SQLite writer's: every write (appends, processing transactions, readings) goes through it. */
  public static StoreBatchMetrics sqlite(MeterRegistry registry) {
    return new StoreBatchMetrics(
        timer(registry, "webhook.sqlite.wait", "SQLite: time a write waited for the writer to begin its batch"),
        timer(registry, "webhook.sqlite.batch", "SQLite: time a batch of writes took to run and commit"),
        timer(registry, "webhook.sqlite.sync",
            "SQLite: time from a commit to its write-ahead log on disk; acknowledgements wait for it"),
        tasks(registry, "webhook.sqlite.batch.tasks", "SQLite: writes committed together in one batch"));
  }

  /** PostgreSQL's appends (events stored, with their first attempts): its commit is synced before it answers. */
  public static StoreBatchMetrics postgres(MeterRegistry registry) {
    return new StoreBatchMetrics(
        timer(registry, "webhook.pg.append.wait",
            "PostgreSQL: time an append waited for a connection's batch to take it"),
        timer(registry, "webhook.pg.append.batch", "PostgreSQL: time a batch of appends took to run and commit"),
        null,
        tasks(registry, "webhook.pg.append.batch.tasks", "PostgreSQL: appends committed together in one batch"));
  }

  private static Timer timer(MeterRegistry registry, String name, String description) {
    return Timer.builder(name).description(description).serviceLevelObjectives(BUCKETS).register(registry);
  }

  private static DistributionSummary tasks(MeterRegistry registry, String name, String description) {
    return DistributionSummary.builder(name).description(description)
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
        .register(registry);
  }

  @Override
  public void waited(long nanos) {
    wait.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void committed(int count, long nanos) {
    batch.record(nanos, TimeUnit.NANOSECONDS);
    tasks.record(count);
  }

  @Override
  public void synced(long nanos) {
    if (sync != null) {
      sync.record(nanos, TimeUnit.NANOSECONDS);
    }
  }
}
