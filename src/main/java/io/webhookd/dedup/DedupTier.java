package io.webhookd.dedup;

import io.vertx.core.Future;

/**
 * One tier of the dedup guard: a fast memory of event keys that are already stored.
 * A tier only learns a key after the store has committed it, so a crash between the two can
 * never turn the sender's retry into a "duplicate" of an event that was never stored.
 */
public interface DedupTier {

  /** The tier's name, used in logs and metrics. */
  String name();

  /** Whether this tier knows the key as stored. A tier that cannot answer says false. */
  Future<Boolean> contains(String key);

  /** Remembers a key the store has committed. Best effort: the store stays the final word. */
  void remember(String key);
}
