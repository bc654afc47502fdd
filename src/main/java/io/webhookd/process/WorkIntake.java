package io.webhookd.process;

import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.FirstAttempt;

/**
 * How a freshly received event reaches processing. Where the store can, the event is stored
 * already claimed by this instance, in the commit that acknowledges it, and handed straight to
 * processing: no second write to claim it and no wait for the next claim; where it can, it is
 * even processed in that commit. Safe from any thread.
 *
 * <p>The order: {@link #reserve}; if reserved, {@link #arriving}, then the append, then exactly
 * one of {@link Arrival#attempted}, {@link #adopt} or {@link #cancel}.
 */
public interface WorkIntake {

  /** An event about to be stored claimed: its first attempt, and what follows once that committed. */
  interface Arrival extends FirstAttempt {

    /**
     * The append committed the event with its first attempt ({@link
     * io.webhookd.store.AppendResult#attempted()}): processed, or its failure recorded. Its slot is
     * free again.
     */
    void attempted();
  }

  /** Takes a processing slot for an event about to be stored; false when processing is full. */
  boolean reserve();

  /**
   * An event is about to be stored claimed under a reserved slot.
   *
   * @param json its parsed body (read only), or null to parse the stored one
   * @return its first attempt, for the store to run in the commit that stores it
   */
  Arrival arriving(WebhookEvent event, JsonObject json);

  /** The event was stored claimed under a reserved slot, not yet processed: it is processed now. */
  void adopt(InboxEvent event);

  /** Gives back a reserved slot that was not used (a duplicate, a failed or unclaimed append). */
  void cancel(WebhookEvent event);

  /** An event was stored unclaimed: claim soon. */
  void wake();

  /** The lease owner a claim taken with the append carries. */
  String owner();

  /** How long such a claim holds before another may take the event over. */
  long leaseMillis();
}
