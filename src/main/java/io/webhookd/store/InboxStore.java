package io.webhookd.store;

import io.vertx.core.Future;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * The durable inbox: the port every storage adapter implements. An event is acknowledged to the
 * sender only after {@link #append} succeeded, so whatever this returns as stored is on disk.
 * Methods never block the caller; results arrive on the caller's Vert.x context.
 *
 * <p>Processing is shared through the store: an instance claims due events with a lease, and an
 * event whose lease expired (its instance died) can be claimed again. Where several instances share
 * a store, a claim also leases the events' partitions, so two instances never work on one
 * conversation at the same time.
 */
public interface InboxStore {

  /**
   * Stores the event unless (source, event id) is already stored. Concurrent appends share
   * commits. Fails with {@link StorageUnavailableException} when nothing could be committed.
   */
  Future<AppendResult> append(WebhookEvent event);

  /**
   * Like {@link #append}, and where the adapter can, the new event is stored already claimed by
   * {@code owner} (attempt 1, leased for {@code leaseMillis}); the result says whether it was. When
   * it cannot be (older events wait to be claimed, another instance holds its conversation's
   * partition), the event is stored pending, as {@link #append} does.
   */
  default Future<AppendResult> appendClaimed(WebhookEvent event, String owner, long leaseMillis) {
    return append(event);
  }

  /**
   * Like {@link #appendClaimed(WebhookEvent, String, long)}, and where the adapter can, {@code
   * attempt} processes the new event in the same commit (the result says what it did). An adapter
   * that cannot ignores it.
   */
  default Future<AppendResult> appendClaimed(WebhookEvent event, String owner, long leaseMillis,
      FirstAttempt attempt) {
    return appendClaimed(event, owner, leaseMillis);
  }

  /**
   * Notes in the event's audit trail that a duplicate of it arrived. Best effort and off the
   * answer's path: the caller does not wait for it.
   */
  void recordDuplicate(WebhookEvent event, String detectedBy);

  /** Keeps a signed request that could not be read, once per distinct body. */
  Future<Void> quarantine(RejectedRequest request);

  /**
   * Claims up to {@code limit} events that are due (pending and due, or processing with an
   * expired lease) for {@code owner} until now + {@code leaseMillis}; oldest first.
   */
  Future<List<InboxEvent>> claim(String owner, long leaseMillis, int limit);

  /**
   * Gives a claimed event back unprocessed: it is pending again, due at {@code dueAt}, and the
   * claim's attempt does not count.
   */
  Future<Void> abandon(long inboxId, String owner, long dueAt);

  /**
   * Extends every claim {@code owner} holds, and the lease of each partition in which it holds one,
   * to now + {@code leaseMillis}. A partition lease without a claimed event under it is left to lapse.
   */
  Future<Void> renew(String owner, long leaseMillis);

  /** Gives up {@code owner}'s leases on partitions it has no more work for. */
  Future<Void> release(String owner, Collection<String> partitionKeys);

  /**
   * Runs {@code work} in one transaction: committed when its future succeeds, rolled back when it
   * fails (the failure is returned). Adapters may commit several such transactions together.
   */
  <T> Future<T> inTransaction(Function<Tx, Future<T>> work);

  /** The status of one event, or null if no such event is stored. */
  Future<InboxStatus> status(String source, String eventId);

  /** Succeeds when the store can be read and written; for readiness. */
  Future<Void> check();

  /** Finishes queued writes, then releases the storage. */
  Future<Void> close();
}
