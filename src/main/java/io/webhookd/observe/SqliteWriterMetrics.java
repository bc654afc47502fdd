package io.webhookd.observe;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.webhookd.store.sqlite.WriterTimings;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The SQLite writer's stages as histograms, so that an operator can tell a busy writer (waits for
 * a batch grow) from a slow disk (waits for the sync grow) before acknowledgements slow down.
 * Prometheus names: {@code webhook_sqlite_wait_seconds}, {@code webhook_sqlite_batch_seconds},
 * {@code webhook_sqlite_sync_seconds}, {@code webhook_sqlite_batch_tasks}.
 */
public final class SqliteWriterMetrics implements WriterTimings {

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

  public SqliteWriterMetrics(MeterRegistry registry) {
    wait = timer(registry, "webhook.sqlite.wait", "SQLite: time a write waited for the writer to begin its batch");
    batch = timer(registry, "webhook.sqlite.batch", "SQLite: time a batch of writes took to run and commit");
    sync = timer(registry, "webhook.sqlite.sync",
        "SQLite: time from a commit to its write-ahead log on disk; acknowledgements wait for it");
    tasks = DistributionSummary.builder("webhook.sqlite.batch.tasks")
        .description("SQLite: writes committed together in one batch")
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
        .register(registry);
  }

  private static Timer timer(MeterRegistry registry, String name, String description) {
    return Timer.builder(name).description(description).serviceLevelObjectives(BUCKETS).register(registry);
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
    sync.record(nanos, TimeUnit.NANOSECONDS);
  }
}
