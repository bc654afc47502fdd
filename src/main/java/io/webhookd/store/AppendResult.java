package io.webhookd.store;

/**
 * @param stored  true when this append stored the event; false when it was stored before
 * @param inboxId the new row's id when stored, else 0
 */
public record AppendResult(boolean stored, long inboxId) {

  public static final AppendResult DUPLICATE = new AppendResult(false, 0);
}
