package io.webhookd.process;

import io.webhookd.event.InboxEvent;

/**
 * How a freshly received event reaches processing. Where the store can, the event is stored
 * already claimed by this instance, in the commit that acknowledges it, and handed straight to
 * processing: no second write to claim it and no wait for the next claim. Safe from any thread.
 */
public interface WorkIntake {

  /** Takes a processing slot for an event about to be stored; false when processing is full. */
  boolean reserve();

  /** The event was stored claimed under a reserved slot: it is processed now. */
  void adopt(InboxEvent event);

  /** Gives back a reserved slot that was not used (a duplicate, a failed or unclaimed append). */
  void cancel();

  /** An event was stored unclaimed: claim soon. */
  void wake();

  /** The lease owner a claim taken with the append carries. */
  String owner();

  /** How long such a claim holds before another may take the event over. */
  long leaseMillis();
}
