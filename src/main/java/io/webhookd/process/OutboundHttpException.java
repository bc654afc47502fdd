package io.webhookd.process;

/** An outbound call answered with an error status; 5xx, 408 and 429 are worth retrying. */
public final class OutboundHttpException extends RuntimeException {

  private final int status;

  public OutboundHttpException(String target, int status) {
    super(target + " answered HTTP " + status);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public boolean retryable() {
    return status >= 500 || status == 408 || status == 429;
  }
}
