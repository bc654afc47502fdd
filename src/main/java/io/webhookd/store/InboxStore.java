package io.webhookd.store;

import io.vertx.core.Future;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import java.util.List;

/**
 * The durable inbox: the port every storage adapter implements. An event is acknowledged to the
 * sender only after {@link #append} succeeded, so whatever this returns as stored is on disk.
 * Methods never block the caller; results arrive on the caller's Vert.x context.
 */
public interface InboxStore {

  /**
   * Stores the event unless (source, event id) is already stored. Concurrent appends share
   * commits. Fails with {@link StorageUnavailableException} when nothing could be committed.
   */
  Future<AppendResult> append(WebhookEvent event);

  /** Keeps a signed request that could not be read, once per distinct body. */
  Future<Void> quarantine(RejectedRequest request);

  /**
   * Moves a pending (or crash-orphaned processing) event to processing.
   * @return false when the event is already processed, so it must not be handled again
   */
  Future<Boolean> markProcessing(long inboxId);

  Future<Void> markProcessed(long inboxId);

  /** Events left pending or processing with {@code afterId < id <= upToId}, oldest first. */
  Future<List<InboxEvent>> unfinished(long afterId, long upToId, int limit);

  /** The newest inbox id, 0 when empty. */
  Future<Long> lastId();

  /** The status of one event, or null if no such event is stored. */
  Future<InboxStatus> status(String source, String eventId);

  /** Finishes queued writes, then releases the storage. */
  Future<Void> close();
}
