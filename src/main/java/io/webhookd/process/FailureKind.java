package io.webhookd.process;

import io.vertx.pgclient.PgException;
import io.webhookd.store.ClaimLostException;

/**
 * Whether a failure may go away by itself (retry it) or never will (dead-letter it at once).
 * Permanent: an invalid event, an outbound 4xx other than 408 and 429, and a database error that is
 * not about the connection, serialization, deadlocks or resources. Everything else (connection
 * errors, timeouts, 5xx, a busy database, a fault injected on purpose, and failures of unknown
 * kind) is retried; the retry budget still ends a failure that never goes away in the dead-letter
 * queue.
 */
public enum FailureKind {
  TRANSIENT, PERMANENT, CLAIM_LOST;

  public static FailureKind of(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ClaimLostException) {
        return CLAIM_LOST;
      }
      if (t instanceof FaultInjector.InjectedFault) {
        return TRANSIENT; // stands for a failure that goes away, so it must go through retries
      }
      if (t instanceof InvalidEventException) {
        return PERMANENT;
      }
      if (t instanceof OutboundHttpException http) {
        return http.retryable() ? TRANSIENT : PERMANENT;
      }
      if (t instanceof PgException pg) {
        return transientSqlState(pg.getSqlState()) ? TRANSIENT : PERMANENT;
      }
    }
    return TRANSIENT;
  }

  /** 08: connection; 40: serialization failure, deadlock; 53: resources; 57: shutdown, cancel. */
  private static boolean transientSqlState(String state) {
    return state == null || state.startsWith("08") || state.startsWith("40")
        || state.startsWith("53") || state.startsWith("57");
  }
}
