package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.FirstAttempt;
import io.webhookd.store.InboxStore;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * {@code max-in-flight}. Where the store can, such an event gets its first attempt in the commit
 * that stores it ({@link io.webhookd.store.FirstAttempt}), but only when nothing else of its conversation is in
 * processing here, arriving, or on its way back from a claim: one at a time, oldest first, as
 * when the scheduler dispatches it.
 *
 * <p>Its state is changed on its event loop only, except the free slots, the stopping flag and
 * the arrivals by partition; first attempts read {@code busy} and {@code claiming} from the
 * store's thread. The {@link WorkIntake} methods may be called from any thread.
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
  /** Runs first attempts on arrival; null when events always go through the workers. */
  private final EventProcessor processor;
  private final AtomicBoolean wakePending = new AtomicBoolean();
  /** Processing slots not taken by a claim, an adopted event or a reservation. */
  private final AtomicInteger free;
  /** Events being stored claimed, by partition, until they are processed, adopted or given up. */
  private final ConcurrentHashMap<String, Integer> arrivals = new ConcurrentHashMap<>();

  /**
   * Partitions with an event in a worker; the queue holds their next events. Changed on this
   * verticle's event loop only; concurrent so that a first attempt may look up its partition from
   * the store's thread (the queues themselves stay on the event loop).
   */
  private final Map<String, PriorityQueue<InboxEvent>> busy = new ConcurrentHashMap<>();
  /** Partitions that ran out of work since the last claim; their leases are given up. */
  private final Set<String> drained = new HashSet<>();
  /**
   * Claims to give back that the store could not take back yet. Until they are, renewal would keep
   * them alive, so they are tried again before every claim.
   */
  private final Set<Long> toAbandon = new HashSet<>();
  private Promise<Void> idle;
  private int inFlight;
  /**
   * A claim is under way, until its events are in {@link #busy}. Read by first attempts on the
   * store's thread: meanwhile they are declined, as the claim's partitions are not known yet.
   */
  private volatile boolean claiming;
  private boolean claimAgain;
  private volatile boolean stopping;
  private boolean claimFailureLogged;

  public WorkScheduler(InboxStore store, EventDispatcher dispatcher, Settings.Processing settings, String owner) {
    this(store, dispatcher, settings, owner, null);
  }

  /** @param processor runs an arriving event's first attempt in the commit that stores it; null: never */
  public WorkScheduler(InboxStore store, EventDispatcher dispatcher, Settings.Processing settings, String owner,
      EventProcessor processor) {
    this.store = store;
    this.dispatcher = dispatcher;
    this.settings = settings;
    this.owner = owner;
    this.processor = processor;
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
  public Arrival arriving(WebhookEvent event, JsonObject json) {
    arrivals.merge(event.partitionKey(), 1, Integer::sum);
    // Read here, on the event loop that received it: the store's thread only writes.
    return new Arriving(processor == null ? null : processor.prepare(event, json));
  }

  /**
   * One arriving event's first attempt. Its methods but the last run on the store's thread, inside
   * the commit that stores the event; {@link #attempted} runs after that commit.
   */
  private final class Arriving implements Arrival {
    private final EventProcessor.Attempt attempt;
    private InboxEvent inbox;
    private long started;
    private volatile JsonObject result;
    private volatile EventProcessor.Failure failure;

    Arriving(EventProcessor.Attempt attempt) {
      this.attempt = attempt;
    }

    @Override
    public Future<FirstAttempt.Outcome> run(InboxEvent event, Tx tx) {
      String partition = event.event().partitionKey();
      if (processor == null || claiming || busy.containsKey(partition)
          || arrivals.getOrDefault(partition, 0) > 1) {
        return null;
      }
      inbox = event;
      started = System.nanoTime();
      // The store may answer later (PostgreSQL) or at once (SQLite); either way before attempted().
      return attempt.run(event, tx).map(done -> {
        result = done.result();
        return done.outcome();
      });
    }

    @Override
    public Future<?> failed(InboxEvent event, Throwable cause, Tx tx) {
      // The effects may have succeeded and the recording of their outcome failed: undone all the same.
      result = null;
      return processor.recordFailure(event, cause, tx).onSuccess(recorded -> failure = recorded);
    }

    @Override
    public void attempted() {
      long nanos = System.nanoTime() - started;
      free.incrementAndGet();
      arrived(inbox.event());
      if (result != null) {
        processor.processed(inbox, result, nanos);
        return;
      }
      processor.failed(inbox, failure, nanos);
      Long dueAt = failure.dueAt();
      if (dueAt != null) {
        // Claim the retry on time rather than at the next poll.
        context.runOnContext(v -> vertx.setTimer(Math.max(1, dueAt - System.currentTimeMillis()), id -> claim()));
      }
    }
  }

  @Override
  public void adopt(InboxEvent event) {
    context.runOnContext(v -> {
      if (stopping) {
        // Left claimed: its lease expires (or the next start takes it over) and it is claimed again.
        free.incrementAndGet();
      } else {
        enqueue(event);
      }
      // Only now: until its partition is busy here, its arrival keeps first attempts of that
      // conversation from overtaking it.
      arrived(event.event());
    });
  }

  @Override
  public void cancel(WebhookEvent event) {
    free.incrementAndGet();
    arrived(event);
  }

  private void arrived(WebhookEvent event) {
    arrivals.computeIfPresent(event.partitionKey(), (partition, n) -> n > 1 ? n - 1 : null);
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
          free.addAndGet(limit - (ar.succeeded() ? ar.result().size() : 0));
          if (ar.succeeded()) {
            claimFailureLogged = false;
            ar.result().forEach(this::enqueue);
          }
          claiming = false;
          if (ar.succeeded()) {
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
