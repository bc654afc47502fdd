package io.webhookd.store;

/**
 * @param stored    true when this append stored the event; false when it was stored before
 * @param inboxId   the new row's id when stored, else 0
 * @param claimed   true when the event was stored already claimed by the owner the append named
 * @param attempted true when its {@link FirstAttempt} ran and committed with it (the event was
 *                  processed, or its failure recorded); it is then no longer claimed
 */
public record AppendResult(boolean stored, long inboxId, boolean claimed, boolean attempted) {

  public static final AppendResult DUPLICATE = new AppendResult(false, 0, false, false);

  public AppendResult(boolean stored, long inboxId) {
    this(stored, inboxId, false, false);
  }

  public AppendResult(boolean stored, long inboxId, boolean claimed) {
    this(stored, inboxId, claimed, false);
  }
}
