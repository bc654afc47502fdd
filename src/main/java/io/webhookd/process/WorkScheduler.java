package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.InboxStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims due events from the store and feeds them to the workers: one event at a time per
 * partition (conversation), in the order of the events' own timestamps, different partitions in
 * parallel. It claims when woken by a fresh commit and on a poll timer (for retries that come due,
 * events another instance received, and claims whose lease expired), and keeps its leases alive
 * while it works.
 *
 * <p>Events stored already claimed by this instance arrive through {@link WorkIntake} instead: a
 * slot is reserved before the append, so claims and adoptions together never exceed
 * {@code max-in-flight}.
 *
 * <p>All its state is confined to its event loop, except the free slots and the stopping flag;
 * the {@link WorkIntake} methods may be called from any thread.
 */
public final class WorkScheduler extends VerticleBase implements WorkIntake {

  private static final Logger LOG = LoggerFactory.getLogger(WorkScheduler.class);
  private static final Comparator<InboxEvent> EVENT_ORDER = Comparator
      .comparingLong((InboxEvent e) -> e.event().occurredAt())
      .thenComparingLong(InboxEvent::inboxId);

  private final InboxStore store;
  private final EventDispatcher dispatcher;
  private final Settings.Processing settings;
  private final String owner;
  private final AtomicBoolean wakePending = new AtomicBoolean();
  /** Processing slots not taken by a claim, an adopted event or a reservation. */
  private final AtomicInteger free;

  /** Partitions with an event in a worker; the queue holds their next events. */
  private final Map<String, PriorityQueue<InboxEvent>> busy = new HashMap<>();
  /** Partitions that ran out of work since the last claim; their leases are given up. */
  private final Set<String> drained = new HashSet<>();
  /**
   * Claims to give back that the store could not take back yet. Until they are, renewal would keep
   * them alive, so they are tried again before every claim.
   */
  private final Set<Long> toAbandon = new HashSet<>();
  private Promise<Void> idle;
  private int inFlight;
  private boolean claiming;
  private boolean claimAgain;
  private volatile boolean stopping;
  private boolean claimFailureLogged;

  public WorkScheduler(InboxStore store, EventDispatcher dispatcher, Settings.Processing settings, String owner) {
    this.store = store;
    this.dispatcher = dispatcher;
    this.settings = settings;
    this.owner = owner;
    this.free = new AtomicInteger(settings.maxInFlight());
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(settings.pollInterval().toMillis(), id -> claim());
    long renewEvery = Math.max(1, settings.lease().toMillis() / 3);
    vertx.setPeriodic(renewEvery, id -> renew());
    claim();
    return Future.succeededFuture();
  }

  /** Stops claiming and lets the events in workers finish, for at most one lease. */
  @Override
  public Future<?> stop() {
    stopping = true;
    idle = Promise.promise();
    if (inFlight == 0 && !claiming) {
      idle.tryComplete();
    }
    return idle.future()
        .timeout(settings.lease().toMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> Future.succeededFuture())
        .compose(v -> releaseDrained());
  }

  /** A new event was committed: claim soon. Cheap and safe from any thread. */
  @Override
  public void wake() {
    if (wakePending.compareAndSet(false, true)) {
      context.runOnContext(v -> {
        wakePending.set(false);
        claim();
      });
    }
  }

  @Override
  public boolean reserve() {
    while (!stopping) {
      int slots = free.get();
      if (slots <= 0) {
        return false;
      }
      if (free.compareAndSet(slots, slots - 1)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void adopt(InboxEvent event) {
    context.runOnContext(v -> {
      if (stopping) {
        // Left claimed: its lease expires (or the next start takes it over) and it is claimed again.
        free.incrementAndGet();
        return;
      }
      enqueue(event);
    });
  }

  @Override
  public void cancel() {
    free.incrementAndGet();
  }

  @Override
  public String owner() {
    return owner;
  }

  @Override
  public long leaseMillis() {
    return settings.lease().toMillis();
  }

  private void claim() {
    if (stopping) {
      return;
    }
    if (!toAbandon.isEmpty()) {
      abandonFailed();
    }
    int room = free.get();
    if (claiming || room <= 0) {
      claimAgain = true;
      return;
    }
    claiming = true;
    claimAgain = false;
    int limit = Math.min(room, settings.claimBatch());
    // The slots are taken now, so that reservations made while the claim runs cannot overfill.
    free.addAndGet(-limit);
    releaseDrained()
        .compose(v -> store.claim(owner, settings.lease().toMillis(), limit))
        .onComplete(ar -> {
          claiming = false;
          free.addAndGet(limit - (ar.succeeded() ? ar.result().size() : 0));
          if (ar.succeeded()) {
            claimFailureLogged = false;
            ar.result().forEach(this::enqueue);
            if (ar.result().size() == limit) {
              claimAgain = true;
            }
          } else if (!claimFailureLogged) {
            claimFailureLogged = true;
            LOG.warn("claiming events failed, will retry: {}", ar.cause().getMessage());
          }
          if (stopping) {
            // A claim that returns during a stop still gets its events processed before the stop ends.
            if (inFlight == 0) {
              idle.tryComplete();
            }
          } else if (claimAgain) {
            claim();
          }
        });
  }

  /**
   * Takes one event into processing; its slot is already taken. A claim may return an event whose
   * previous attempt is still on its way back from a worker (its retry came due first): it is a
   * new claim all the same, and it waits behind that attempt in its partition's queue. Dropping it
   * would leave it claimed and unprocessed until its lease ran out.
   */
  private void enqueue(InboxEvent event) {
    inFlight++;
    String partition = event.event().partitionKey();
    PriorityQueue<InboxEvent> queue = busy.get(partition);
    if (queue != null) {
      queue.add(event);
      return;
    }
    drained.remove(partition);
    queue = new PriorityQueue<>(EVENT_ORDER);
    queue.add(event);
    busy.put(partition, queue);
    next(partition, queue);
  }

  private void next(String partition, PriorityQueue<InboxEvent> queue) {
    InboxEvent event = queue.poll();
    if (event == null) {
      busy.remove(partition);
      drained.add(partition);
      return;
    }
    dispatcher.dispatchAndWait(event).onComplete(ar -> {
      inFlight--;
      free.incrementAndGet();
      if (ar.failed()) {
        // The claim stays in the store; it is given back so that it can be claimed again.
        LOG.warn("event {} was not processed: {}", event.event().eventId(), ar.cause().getMessage());
        toAbandon.add(event.inboxId());
        abandonFailed();
      } else if (ar.result() != null) {
        // A retry is due then: claim on time rather than at the next poll.
        vertx.setTimer(Math.max(1, ar.result() - System.currentTimeMillis()), id -> claim());
      }
      next(partition, queue);
      if (stopping && inFlight == 0) {
        idle.tryComplete();
      } else if (claimAgain) {
        claim();
      }
    });
  }

  private void abandonFailed() {
    for (Long inboxId : List.copyOf(toAbandon)) {
      store.abandon(inboxId, owner, System.currentTimeMillis() + settings.pollInterval().toMillis())
          .onSuccess(v -> toAbandon.remove(inboxId));
    }
  }

  private void renew() {
    if (inFlight > 0 || !busy.isEmpty()) {
      store.renew(owner, settings.lease().toMillis())
          .onFailure(e -> LOG.warn("renewing leases failed: {}", e.getMessage()));
    }
  }

  private Future<Void> releaseDrained() {
    if (drained.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> partitions = new ArrayList<>(drained);
    drained.clear();
    return store.release(owner, partitions).recover(e -> {
      LOG.debug("releasing partition leases failed; they expire by themselves: {}", e.getMessage());
      return Future.succeededFuture();
    });
  }
}
