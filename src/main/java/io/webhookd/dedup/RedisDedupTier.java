package io.webhookd.dedup;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared tier: keys in Redis, so an instance learns what the others stored. Redis being slow or
 * down never stops ingest: a question it cannot answer in time counts as "not known" (the store
 * still decides). Once Redis fails to answer in time the tier stands aside (no request waits for
 * it) and a ping, once a second, brings it back when Redis answers in time again. Each change is
 * logged once, and readiness reports the tier's state.
 */
public final class RedisDedupTier implements DedupTier {

  private static final Logger LOG = LoggerFactory.getLogger(RedisDedupTier.class);
  private static final String PREFIX = "webhookd:seen:";
  private static final long PING_EVERY_MILLIS = 1_000;

  private final RedisAPI redis;
  private final String ttlMillis;
  private final long timeoutMillis;
  private final AtomicBoolean healthy = new AtomicBoolean(true);

  public RedisDedupTier(RedisAPI redis, Duration ttl, Duration timeout) {
    this.redis = redis;
    this.ttlMillis = Long.toString(ttl.toMillis());
    this.timeoutMillis = timeout.toMillis();
  }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public Future<Boolean> contains(String key) {
    if (!healthy.get()) {
      return Future.succeededFuture(false);
    }
    return redis.exists(List.of(PREFIX + key))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .map(response -> response != null && response.toInteger() > 0)
        .otherwise(failure -> {
          down(failure);
          return false;
        });
  }

  @Override
  public void remember(String key) {
    if (!healthy.get()) {
      return;
    }
    // Written only after the store committed the event, so a crash in between leaves no false mark.
    redis.set(List.of(PREFIX + key, "1", "NX", "PX", ttlMillis))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .onFailure(this::down);
  }

  /** Whether the tier is in use; for readiness. */
  public boolean healthy() {
    return healthy.get();
  }

  /** Pings Redis once a second, so that the tier comes back by itself. */
  public void watch(Vertx vertx) {
    vertx.setPeriodic(PING_EVERY_MILLIS, id -> ping());
  }

  /** A round trip to Redis within the tier's timeout; the tier is in use again when it succeeds. */
  public Future<Void> ping() {
    return redis.ping(List.of())
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .onSuccess(r -> up())
        .onFailure(this::down)
        .mapEmpty();
  }

  private void up() {
    if (healthy.compareAndSet(false, true)) {
      LOG.info("Redis dedup tier is reachable again");
    }
  }

  private void down(Throwable failure) {
    if (healthy.compareAndSet(true, false)) {
      LOG.warn("Redis dedup tier unavailable, continuing on the in-process tier and the store: {}",
          failure.getMessage());
    }
  }
}
