package io.webhookd.store;

/**
 * @param stored  true when this append stored the event; false when it was stored before
 * @param inboxId the new row's id when stored, else 0
 * @param claimed true when the event was stored already claimed by the owner the append named
 */
public record AppendResult(boolean stored, long inboxId, boolean claimed) {

  public static final AppendResult DUPLICATE = new AppendResult(false, 0, false);

  public AppendResult(boolean stored, long inboxId) {
    this(stored, inboxId, false);
  }
}
