package io.webhookd.store;

import io.vertx.core.Future;
import io.webhookd.event.InboxEvent;

/**
 * Processing offered to a new event in the very commit that stores it, where the adapter can run
 * it there: one commit instead of two, and no trip through the scheduler and a worker. Both methods
 * run on the adapter's own thread (SQLite's writer, a PostgreSQL connection's event loop), inside
 * its transaction: they must use only the given {@link Tx} and must not block. Their futures
 * complete when the adapter answers the statements: at once on SQLite, later on PostgreSQL.
 */
public interface FirstAttempt {

  /**
   * What a successful attempt leaves the event in: its new status (processed, or ignored) and the
   * detail of that audit entry.
   */
  record Outcome(InboxStatus status, String detail) {
  }

  /**
   * The attempt: the handler's effects, and the outcome, which the adapter then records in the same
   * transaction, as {@link InboxTransitions#finish} does (PostgreSQL records a batch's outcomes in
   * one statement).
   *
   * @return its outcome, or null to decline (the event then stays stored claimed, for the workers)
   */
  Future<Outcome> run(InboxEvent event, Tx tx);

  /**
   * The attempt failed and the adapter undid its effects: record the failure (a retry or a dead
   * letter), through {@link InboxTransitions} with the very {@code event} given (which may carry its
   * arrival's audit entries, then written with the failure's). Should this fail too, the event stays
   * stored claimed, for the workers. An adapter that cannot undo one attempt alone (PostgreSQL runs
   * a batch's attempts in one transaction) never calls it: the event stays stored claimed, for the
   * workers, who record the failure.
   */
  Future<?> failed(InboxEvent event, Throwable failure, Tx tx);
}
