package io.webhookd.dedup;

import io.vertx.core.Future;
import java.util.List;

/**
 * Answers "have we stored this event already?" from memory, tier by tier, without touching the
 * store. A miss proves nothing: the store's unique key on (source, event id) decides.
 */
public final class DedupGuard {

  private final List<DedupTier> tiers;

  public DedupGuard(List<DedupTier> tiers) {
    this.tiers = List.copyOf(tiers);
  }

  /** The name of the first tier that knows the key, or null when none does. */
  public Future<String> knownBy(String key) {
    return ask(0, key);
  }

  private Future<String> ask(int index, String key) {
    if (index == tiers.size()) {
      return Future.succeededFuture(null);
    }
    DedupTier tier = tiers.get(index);
    return tier.contains(key)
        .otherwise(false)
        .compose(known -> known ? Future.succeededFuture(tier.name()) : ask(index + 1, key));
  }

  /** Called once the store holds the key, whether this request stored it or an earlier one did. */
  public void remember(String key) {
    for (DedupTier tier : tiers) {
      tier.remember(key);
    }
  }
}
