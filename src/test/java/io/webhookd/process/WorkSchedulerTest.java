package io.webhookd.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.observe.Metrics;
import io.webhookd.observe.ProcessingOutcomes;
import io.webhookd.store.AppendResult;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxTransitions;
import io.webhookd.store.sqlite.SqliteInboxStore;
import io.webhookd.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler's processing slots, shared by events stored already claimed (adopted) and events
 * it claims itself: together they never exceed {@code process.max-in-flight}. A real SQLite store
 * in a temporary directory; the test stands in for the workers and answers when it chooses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkSchedulerTest {

  private static final int MAX_IN_FLIGHT = 3;
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private Vertx vertx;
  private InboxStore store;
  private WorkScheduler scheduler;
  private final List<Message<InboxEvent>> inWorkers = new CopyOnWriteArrayList<>();
  private final TestHandlers.Recording handler = new TestHandlers.Recording();

  @BeforeEach
  void start() throws Exception {
    Settings settings = SettingsLoader.load(Files.writeString(dir.resolve("conf.yaml"), ""), Map.of(
        "WEBHOOKD_PROCESS_MAX_IN_FLIGHT", String.valueOf(MAX_IN_FLIGHT),
        // Claims run only when woken or when a slot frees, not on a timer: the test sees each one.
        "WEBHOOKD_PROCESS_POLL_INTERVAL", "1m"));
    vertx = Vertx.vertx();
    EventDispatcher.registerCodec(vertx);
    vertx.eventBus().<InboxEvent>consumer(EventDispatcher.ADDRESS, inWorkers::add);
    store = SqliteInboxStore.open(dir.resolve("data"), settings.store(), "scheduler-test");
    Metrics metrics = new Metrics();
    EventProcessor processor = new EventProcessor(new HandlerRegistry().register("message.delivered", handler),
        "scheduler-test", new RetryPolicy(Duration.ofMinutes(1), Duration.ofHours(1), 5), FaultInjector.NONE,
        new DeadLetterAlerts(vertx, "", metrics), metrics, new ProcessingOutcomes(5), new ProcessingWatch());
    scheduler = new WorkScheduler(store, new EventDispatcher(vertx, 30_000), settings.processing(), "scheduler-test",
        processor);
    vertx.deployVerticle(scheduler).await();
    // The claim it makes at start holds every slot while it runs; it finds nothing.
    Poll.until("the start-up claim to end", WAIT, scheduler::reserve, reserved -> reserved);
    scheduler.cancel(event("EV-unused"));
  }

  @AfterEach
  void stop() {
    inWorkers.forEach(m -> m.reply(null));
    vertx.close().await();
    store.close().await();
  }

  @Test
  void reservationsStopAtMaxInFlightAndACancelGivesTheSlotBack() {
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
      assertThat(scheduler.reserve()).as("reservation %d", i + 1).isTrue();
    }
    assertThat(scheduler.reserve()).as("one more than max-in-flight").isFalse();
    scheduler.cancel(event("EV-unused"));
    assertThat(scheduler.reserve()).as("after a cancel").isTrue();
  }

  @Test
  void adoptedAndClaimedEventsTogetherNeverExceedMaxInFlight() throws Exception {
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
      assertThat(scheduler.reserve()).isTrue();
      AppendResult stored = store.appendClaimed(event("EV-adopted-" + i), scheduler.owner(), scheduler.leaseMillis())
          .await();
      assertThat(stored.claimed()).isTrue();
      scheduler.adopt(new InboxEvent(stored.inboxId(), 1, event("EV-adopted-" + i)));
    }
    Poll.until("the adopted events in the workers", WAIT, inWorkers::size, n -> n == MAX_IN_FLIGHT);

    // No slot left: the next event is stored pending, and the scheduler's claims leave it there.
    assertThat(scheduler.reserve()).isFalse();
    store.append(event("EV-waiting")).await();
    scheduler.wake();
    // That nothing more is dispatched can only be seen over a window.
    long window = System.nanoTime() + Duration.ofMillis(300).toNanos();
    Poll.until("the window to pass", WAIT, System::nanoTime, now -> now > window);
    assertThat(inWorkers).hasSize(MAX_IN_FLIGHT);
    assertThat(store.status("openphone", "EV-waiting").await()).isEqualTo(InboxStatus.PENDING);

    // One finishes: its slot goes to the waiting event.
    inWorkers.remove(0).reply(null);
    Poll.until("the waiting event in a worker", WAIT, () -> inWorkers.stream()
        .anyMatch(m -> m.body().event().eventId().equals("EV-waiting")), found -> found);
    assertThat(inWorkers).hasSize(MAX_IN_FLIGHT);
  }

  /**
   * A worker's retry commits before its answer gets back to the scheduler, and the retry comes due
   * in between: a claim returns the event while its first attempt still counts as in flight. That
   * claim is real (the row is claimed again, attempt 2) and must be processed, not dropped.
   */
  @Test
  void aRetryClaimedBeforeItsFirstAttemptsAnswerArrivesIsStillProcessed() throws Exception {
    assertThat(scheduler.reserve()).isTrue();
    WebhookEvent event = event("EV-retried-early");
    AppendResult stored = store.appendClaimed(event, scheduler.owner(), scheduler.leaseMillis()).await();
    InboxEvent first = new InboxEvent(stored.inboxId(), 1, event);
    scheduler.adopt(first);
    Poll.until("the first attempt in a worker", WAIT, inWorkers::size, n -> n == 1);

    // The worker's retry commits (due at once), but its answer has not reached the scheduler yet.
    long now = System.currentTimeMillis();
    store.inTransaction(tx -> InboxTransitions.retryLater(tx, first, scheduler.owner(), now, "failed once")).await();
    scheduler.wake();
    Poll.until("the retry claimed", WAIT, () -> store.status("openphone", "EV-retried-early").await(),
        status -> status == InboxStatus.PROCESSING);

    inWorkers.remove(0).reply(null);
    Message<InboxEvent> second = Poll.until("the second attempt in a worker", WAIT,
        () -> inWorkers.isEmpty() ? null : inWorkers.get(0), m -> m != null);
    assertThat(second.body().inboxId()).isEqualTo(stored.inboxId());
    assertThat(second.body().attempt()).isEqualTo(2);
  }

  /**
   * An arriving event is processed in the commit that stores it only when nothing else of its
   * conversation is in processing here and nothing waits in the store to be claimed: otherwise it
   * is stored claimed and takes its turn through the workers.
   */
  @Test
  void aFirstAttemptOnArrivalNeverOvertakesItsConversationOrTheBacklog() throws Exception {
    WebhookEvent inWorker = event("EV-in-worker", "conversation:busy");
    assertThat(scheduler.reserve()).isTrue();
    AppendResult first = store.appendClaimed(inWorker, scheduler.owner(), scheduler.leaseMillis()).await();
    scheduler.adopt(new InboxEvent(first.inboxId(), 1, inWorker));
    Poll.until("the busy conversation's event in a worker", WAIT, inWorkers::size, n -> n == 1);

    AppendResult behind = arrive(event("EV-behind", "conversation:busy"));
    assertThat(behind.attempted()).as("an event of the busy conversation, attempted on arrival").isFalse();
    assertThat(behind.claimed()).isTrue();
    scheduler.adopt(new InboxEvent(behind.inboxId(), 1, event("EV-behind", "conversation:busy")));

    AppendResult idle = arrive(event("EV-idle", "conversation:idle"));
    assertThat(idle.attempted()).as("an event of an idle conversation, attempted on arrival").isTrue();
    assertThat(store.status("openphone", "EV-idle").await()).isEqualTo(InboxStatus.PROCESSED);
    assertThat(handler.callCount("EV-idle")).isEqualTo(1);
    assertThat(handler.callCount("EV-behind")).as("the busy conversation's next event, before its turn").isZero();

    // An event stored unclaimed (as when processing is full) is a backlog: until a claim has taken
    // it, no arrival goes ahead of it.
    store.append(event("EV-backlog", "conversation:backlog")).await();
    AppendResult later = arrive(event("EV-after-backlog", "conversation:other"));
    assertThat(later.attempted()).as("an arrival while an event waits in the store").isFalse();
    scheduler.adopt(new InboxEvent(later.inboxId(), 1, event("EV-after-backlog", "conversation:other")));

    inWorkers.remove(0).reply(null);
    Poll.until("the busy conversation's next event in a worker", WAIT, () -> inWorkers.stream()
        .anyMatch(m -> m.body().event().eventId().equals("EV-behind")), found -> found);
  }

  private AppendResult arrive(WebhookEvent event) {
    assertThat(scheduler.reserve()).isTrue();
    WorkIntake.Arrival arrival = scheduler.arriving(event, null);
    AppendResult result = store.appendClaimed(event, scheduler.owner(), scheduler.leaseMillis(), arrival).await();
    if (result.attempted()) {
      arrival.attempted();
    }
    return result;
  }

  private static WebhookEvent event(String eventId) {
    return event(eventId, "conversation:" + eventId);
  }

  private static WebhookEvent event(String eventId, String partition) {
    return new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, eventId, "message.delivered", 1_700_000_000_000L,
        partition, 1_700_000_000_000L, "openphone", "{}".getBytes());
  }
}
