package io.webhookd.observe;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.dedup.RedisDedupTier;
import io.webhookd.observe.HealthCheck.Result;
import io.webhookd.observe.HealthCheck.Status;
import io.webhookd.store.InboxStore;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks behind {@code /ready}: the store (unhealthy when it cannot be reached: nothing new can
 * be acknowledged), Redis when configured (degraded: the service goes on without it), the backlog,
 * the age of the oldest waiting event, and the recent processing success rate.
 */
public final class ReadinessChecks {

  private static final int MIN_OUTCOMES_FOR_RATE = 10;

  private ReadinessChecks() {
  }

  public static List<HealthCheck> of(Settings.Management settings, InboxStore store, RedisDedupTier redis,
      InboxStats stats, ProcessingOutcomes outcomes) {
    List<HealthCheck> checks = new ArrayList<>();
    checks.add(HealthCheck.of("store", () -> store.check()
        .map(v -> Result.healthy())
        .otherwise(e -> Result.of(Status.UNHEALTHY, "storage unavailable"))));
    if (redis != null) {
      checks.add(HealthCheck.of("redis", () -> Future.succeededFuture(redis.healthy() ? Result.healthy()
          : Result.of(Status.DEGRADED, "Redis unreachable or slow; deduplicating in process and in the store"))));
    }
    checks.add(HealthCheck.of("queue", () -> Future.succeededFuture(queue(settings, stats.last()))));
    checks.add(HealthCheck.of("oldest_pending", () -> Future.succeededFuture(oldest(settings, stats.last()))));
    checks.add(HealthCheck.of("success_rate", () -> Future.succeededFuture(successRate(settings, outcomes))));
    return checks;
  }

  private static Result queue(Settings.Management settings, InboxStats.Reading reading) {
    if (reading == null) {
      return Result.of(Status.HEALTHY, "not read yet");
    }
    Status status = reading.queueSize() > settings.queueDegradedAbove() ? Status.DEGRADED : Status.HEALTHY;
    return new Result(status, new JsonObject().put("size", reading.queueSize())
        .put("degraded_above", settings.queueDegradedAbove()).put("dead_letters", reading.deadLetters()));
  }

  private static Result oldest(Settings.Management settings, InboxStats.Reading reading) {
    if (reading == null || reading.oldestPendingAt() == null) {
      return new Result(Status.HEALTHY, new JsonObject().put("age_seconds", 0));
    }
    long ageMillis = Math.max(0, System.currentTimeMillis() - reading.oldestPendingAt());
    Status status = ageMillis > settings.oldestPendingDegradedAfter().toMillis() ? Status.DEGRADED : Status.HEALTHY;
    return new Result(status, new JsonObject().put("age_seconds", ageMillis / 1000)
        .put("degraded_after_seconds", settings.oldestPendingDegradedAfter().toSeconds()));
  }

  private static Result successRate(Settings.Management settings, ProcessingOutcomes outcomes) {
    long[] counts = outcomes.counts(System.currentTimeMillis());
    long total = counts[0] + counts[1];
    JsonObject details = new JsonObject()
        .put("succeeded", counts[0]).put("failed", counts[1]).put("window_minutes", 5);
    if (total < MIN_OUTCOMES_FOR_RATE) {
      return new Result(Status.HEALTHY, details);
    }
    long percent = counts[0] * 100 / total;
    details.put("percent", percent);
    return new Result(percent < settings.successRateDegradedBelow() ? Status.DEGRADED : Status.HEALTHY, details);
  }
}
