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
    this.seen = Caffeine.newBuilder().maximumSize(maximumSize).expireAfterWrite(ttl).build();
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
