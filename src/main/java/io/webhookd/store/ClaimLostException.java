package io.webhookd.store;

/**
 * The claim on an event expired and was taken over (this instance stalled past its lease): the
 * transaction that noticed it rolls back, and the new owner processes the event.
 */
public final class ClaimLostException extends RuntimeException {

  public ClaimLostException(long inboxId, String owner) {
    super("claim on inbox event " + inboxId + " is no longer held by " + owner, null, false, false);
  }
}
