package io.webhookd.process;

/** The event itself is unusable (a required field missing or malformed): retrying cannot help. */
public final class InvalidEventException extends RuntimeException {

  public InvalidEventException(String message) {
    super(message);
  }
}
