package io.webhookd.dedup;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import java.time.Duration;

/** In-process tier: a bounded Caffeine cache whose entries live as long as the sender retries. */
public final class LocalDedupTier implements DedupTier {

  private static final Future<Boolean> YES = Future.succeededFuture(true);
  private static final Future<Boolean> NO = Future.succeededFuture(false);

  private final Cache<String, Boolean> seen;

  public LocalDedupTier(long maximumSize, Duration ttl) {
    // Maintenance runs on the calling event loop, in small amortised steps: handed to the common
    // pool, almost every new key cost a thread wake-up, dearer than the maintenance itself.
    this.seen = Caffeine.newBuilder().maximumSize(maximumSize).expireAfterWrite(ttl).executor(Runnable::run).build();
  }

  @Override
  public String name() {
    return "caffeine";
  }

  @Override
  public Future<Boolean> contains(String key) {
    return seen.getIfPresent(key) != null ? YES : NO;
  }

  @Override
  public void remember(String key) {
    seen.put(key, Boolean.TRUE);
  }
}
