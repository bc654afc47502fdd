package io.webhookd.process;

import io.vertx.core.Future;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.InboxStore;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At start-up, dispatches again every event a crash left pending or processing. It walks only the
 * ids that existed when it started, page by page, waiting for each page to be processed, so a large
 * backlog neither floods memory nor collides with events that arrive meanwhile.
 */
public final class PendingRecovery {

  private static final Logger LOG = LoggerFactory.getLogger(PendingRecovery.class);
  private static final int PAGE = 500;

  private final InboxStore store;
  private final EventDispatcher dispatcher;

  public PendingRecovery(InboxStore store, EventDispatcher dispatcher) {
    this.store = store;
    this.dispatcher = dispatcher;
  }

  /** @param upToId the newest id stored before the listener opened */
  public Future<Long> run(long upToId) {
    return page(0, upToId, 0).onSuccess(n -> {
      if (n > 0) {
        LOG.info("recovered {} events left unfinished by the previous run", n);
      }
    });
  }

  private Future<Long> page(long afterId, long upToId, long done) {
    return store.unfinished(afterId, upToId, PAGE).compose(events -> {
      if (events.isEmpty()) {
        return Future.succeededFuture(done);
      }
      List<Future<Void>> handled = events.stream().map(dispatcher::dispatchAndWait).toList();
      long last = events.get(events.size() - 1).inboxId();
      // A failed event stays unfinished and is retried at the next start; go on with the rest.
      return Future.join(handled).transform(ignored -> page(last, upToId, done + events.size()));
    });
  }
}
