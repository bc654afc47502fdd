package io.webhookd.store;

/** The store could not take the write; the sender must be told to retry. */
public final class StorageUnavailableException extends RuntimeException {

  public StorageUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
