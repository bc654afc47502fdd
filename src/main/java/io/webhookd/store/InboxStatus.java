package io.webhookd.store;

import java.util.Locale;

/** Where an event is in its life; stored in lower case. */
public enum InboxStatus {
  PENDING, PROCESSING, PROCESSED, IGNORED, DEAD, DISCARDED;

  public String dbValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static InboxStatus fromDb(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
