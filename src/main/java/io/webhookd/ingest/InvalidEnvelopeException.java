package io.webhookd.ingest;

/**
 * A correctly signed body that is not a webhook envelope we can read.
 * {@link #code()} is the machine-readable error sent back; the message is short and safe to send.
 */
public final class InvalidEnvelopeException extends Exception {

  private final String code;

  InvalidEnvelopeException(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
