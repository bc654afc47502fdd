package io.webhookd.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.webhookd.process.TestHandlers.AlwaysInvalid;
import io.webhookd.process.TestHandlers.AlwaysTransient;
import io.webhookd.process.TestHandlers.Call;
import io.webhookd.process.TestHandlers.FailsThenSucceeds;
import io.webhookd.process.TestHandlers.Recording;
import io.webhookd.store.sqlite.SqliteInboxStore;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.PrivateDatabase;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The processing pipeline end to end: the whole service runs in this JVM on SQLite in a temporary
 * directory, receives real signed HTTP requests, and runs test handlers; outcomes are read from the
 * SQLite file. Waits poll against a deadline.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessingPipelineTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  /** Time allowed on top of a retry's delay for the claim that runs it (poll 50 ms, commits). */
  private static final long RETRY_SLACK_MILLIS = 2_000;

  @TempDir
  Path dir;

  private InProcessServer server;
  private Vertx alertVertx;
  /** The PostgreSQL test's own database, dropped once its server has stopped. */
  private PrivateDatabase database;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
    if (alertVertx != null) {
      alertVertx.close().await();
    }
    if (database != null) {
      database.close();
    }
  }

  /**
   * One request through the whole path (an event of a type no test handler takes, so it is only
   * recorded as ignored), so that a timed request after it does not pay for first-use costs.
   */
  private void warmUp() throws Exception {
    String id = EventBodies.newEventId("warmup");
    assertThat(server.send(EventBodies.task("task.warmup", id, Instant.now())).statusCode()).isEqualTo(200);
    server.awaitStatus(id, "ignored", WAIT);
  }

  // ---- 1. ordering and concurrency per conversation ---------------------------------------------

  @Test
  void eachConversationIsProcessedOneEventAtATimeInCreatedAtOrder() throws Exception {
    int conversations = 20;
    int perConversation = 15;
    // First run: processing is throttled (one event at a time, each taking 20 ms) so that a backlog
    // builds up while the events arrive; it is stopped once every event is stored.
    Recording firstRun = new Recording(Duration.ofMillis(20));
    server = InProcessServer.start(dir, Map.of(
            "WEBHOOKD_PROCESS_MAX_IN_FLIGHT", "1",
            "WEBHOOKD_PROCESS_CLAIM_BATCH", "1"),
        new HandlerRegistry().register("message.delivered", firstRun));

    Map<String, List<String>> idsByConversation = new LinkedHashMap<>();
    Map<String, byte[]> bodies = new HashMap<>();
    Instant base = Instant.parse("2024-05-01T10:00:00Z");
    for (int c = 0; c < conversations; c++) {
      String conversation = "CNorder" + c;
      List<String> ids = new ArrayList<>();
      for (int k = 0; k < perConversation; k++) {
        String id = EventBodies.newEventId("c" + c + "k" + k + "x");
        // createdAt increases within a conversation; conversations are interleaved in time.
        Instant createdAt = base.plusSeconds(k).plusMillis(37L * c);
        bodies.put(id, EventBodies.message("message.delivered", id, conversation, createdAt, k));
        ids.add(id);
      }
      idsByConversation.put("conversation:" + conversation, ids);
    }

    // Concurrently, conversations started in shuffled order; within one, each send waits for the
    // previous one's answer.
    List<String> partitions = new ArrayList<>(idsByConversation.keySet());
    Collections.shuffle(partitions, new Random(42));
    List<String> answers = new CopyOnWriteArrayList<>();
    List<CompletableFuture<Void>> chains = new ArrayList<>();
    for (String partition : partitions) {
      CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
      for (String id : idsByConversation.get(partition)) {
        chain = chain.thenCompose(v -> server.sendAsync(bodies.get(id)))
            .thenAccept(response -> answers.add(response.statusCode() + " " + response.body()));
      }
      chains.add(chain);
    }
    CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    assertThat(answers).hasSize(conversations * perConversation)
        .allSatisfy(answer -> assertThat(answer).startsWith("200 ").contains("\"queued\""));

    // Every event is stored now: restart, and what is left is processed from a backlog.
    Recording secondRun = new Recording();
    server.startAgain(new HandlerRegistry().register("message.delivered", secondRun));
    Poll.until("every event processed", WAIT,
        () -> server.query("SELECT count(*) AS n FROM inbox_events WHERE status = 'processed'").get(0).get("n"),
        n -> ((Number) n).intValue() == conversations * perConversation);

    assertThat(secondRun.calls())
        .as("events left for the second run (the first was throttled to build a backlog)").isNotEmpty();
    List<Call> all = new ArrayList<>(firstRun.calls());
    all.addAll(secondRun.calls());
    assertThat(all).as("one call per event: none failed, none repeated").hasSize(conversations * perConversation)
        .allSatisfy(call -> assertThat(call.succeeded()).isTrue());
    assertThat(all.stream().map(Call::eventId).distinct().count()).isEqualTo(conversations * perConversation);

    assertThat(firstRun.maxConcurrentWithinAPartition()).as("calls at once within a conversation, first run")
        .isEqualTo(1);
    assertThat(secondRun.maxConcurrentWithinAPartition()).as("calls at once within a conversation, second run")
        .isEqualTo(1);

    Map<String, List<Call>> byPartition = all.stream()
        .sorted(Comparator.comparingLong(Call::startedAtNanos))
        .collect(Collectors.groupingBy(Call::partition, LinkedHashMap::new, Collectors.toList()));
    assertThat(byPartition.keySet()).containsExactlyInAnyOrderElementsOf(idsByConversation.keySet());
    idsByConversation.forEach((partition, ids) -> {
      List<Call> calls = byPartition.get(partition);
      assertThat(calls).extracting(Call::eventId).as("handler calls of %s, in createdAt order", partition)
          .containsExactlyElementsOf(ids);
      for (int i = 1; i < calls.size(); i++) {
        assertThat(calls.get(i).startedAtNanos()).as("call %d of %s starts after call %d ended", i, partition, i - 1)
            .isGreaterThanOrEqualTo(calls.get(i - 1).endedAtNanos());
      }
    });
    // The backlog's events, all stored before the second run began, ran in createdAt order.
    Map<String, List<Long>> secondRunOrder = secondRun.calls().stream()
        .sorted(Comparator.comparingLong(Call::startedAtNanos))
        .collect(Collectors.groupingBy(Call::partition, Collectors.mapping(Call::occurredAt, Collectors.toList())));
    secondRunOrder.forEach((partition, createdAts) ->
        assertThat(createdAts).as("createdAt of the backlog of %s, in processing order", partition).isSorted());
    // Conversations progressed side by side rather than one after the other.
    List<Call> secondRunCalls = secondRun.calls().stream().sorted(Comparator.comparingLong(Call::startedAtNanos)).toList();
    int switches = 0;
    for (int i = 1; i < secondRunCalls.size(); i++) {
      if (!secondRunCalls.get(i).partition().equals(secondRunCalls.get(i - 1).partition())) {
        switches++;
      }
    }
    assertThat(switches).as("conversation changes between consecutive calls of the backlog")
        .isGreaterThan(secondRunOrder.size());
    System.out.printf("ordering: %d events processed in the first run, %d from the backlog after the restart%n",
        firstRun.calls().size(), secondRun.calls().size());
  }

  /**
   * A graceful stop leaves no event claimed, and counts no attempt that did not run: a claim still
   * under way when the stop begins (here held up by another process's write lock on the SQLite
   * file, as a slow commit would) must not strand what it claims in 'processing' (on a shared store
   * it would then wait for its lease to expire) nor add an attempt that never reached a handler.
   */
  @Test
  void aClaimUnderWayWhenAStopBeginsLeavesNoEventClaimedOrAttemptCountedBehind() throws Exception {
    FailsThenSucceeds handler = new FailsThenSucceeds(1);
    Map<String, String> quickRetry = Map.of(
        "WEBHOOKD_PROCESS_RETRY_BASE", "200ms",
        "WEBHOOKD_PROCESS_POLL_INTERVAL", "20ms");
    server = InProcessServer.start(dir, quickRetry, new HandlerRegistry().register("call.completed", handler));
    String id = EventBodies.newEventId("claimatstop");
    server.send(EventBodies.fixture(Fixtures.LEGACY_V3_CALL_COMPLETED, id));
    Map<String, Object> scheduled = Poll.until("the retry to be scheduled", WAIT, () -> server.inboxRow(id),
        r -> r != null && "pending".equals(r.get("status")) && r.get("last_error") != null);
    long dueAt = ((Number) scheduled.get("due_at")).longValue();

    String statusAfterStop;
    try (InProcessServer.WriteLock lock = server.holdWriteLock()) {
      // The scheduler's next claim now waits for the lock; let the retry come due meanwhile.
      Poll.until("the retry to be due", WAIT, System::currentTimeMillis, now -> now > dueAt + 50);
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop);
      Poll.until("the stop to close every listener", WAIT, server::managementListening, up -> !up);
      lock.close();
      stopping.get(20, TimeUnit.SECONDS);
      statusAfterStop = server.status(id);
    }
    server.startAgain(new HandlerRegistry().register("call.completed", handler));
    Map<String, Object> done = server.awaitStatus(id, "processed", WAIT);

    assertThat(handler.callsFor(id)).extracting(Call::succeeded).containsExactly(false, true);
    int attempts = ((Number) done.get("attempts")).intValue();
    List<String> problems = new ArrayList<>();
    if ("processing".equals(statusAfterStop)) {
      problems.add("the graceful stop left the event in 'processing' (a shared store would hold it until its lease expired)");
    }
    if (attempts != 2) {
      problems.add("attempts = " + attempts + " for an event whose handler ran twice");
    }
    assertThat(problems).as("what the claim under way at the stop left behind").isEmpty();
  }

  /**
   * With several workers, handlers of different conversations run at the same time (each call
   * takes 30 ms, so calls that are dispatched together overlap unless something serialises them).
   * On PostgreSQL: the embedded SQLite store has a single writer, so there every handler's
   * transaction runs on it, one after the other, by design.
   */
  @Test
  void differentConversationsRunInParallelWhenThereAreSeveralWorkers() throws Exception {
    database = PrivateDatabase.create("pipeline");
    String pgUrl = database.url();
    Recording handler = new Recording(Duration.ofMillis(30));
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_PROCESS_WORKERS", "4", "WEBHOOKD_PG_URL", pgUrl),
        new HandlerRegistry().register("message.delivered", handler));
    List<CompletableFuture<HttpResponse<String>>> sends = new ArrayList<>();
    Instant base = Instant.parse("2024-05-01T10:00:00Z");
    for (int c = 0; c < 8; c++) {
      for (int k = 0; k < 3; k++) {
        String id = EventBodies.newEventId("par" + c + "k" + k + "x");
        sends.add(server.sendAsync(
            EventBodies.message("message.delivered", id, "CNpar" + c, base.plusSeconds(k), k)));
      }
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    Poll.until("every event processed", WAIT, () -> handler.calls().size(), n -> n == 24);

    assertThat(handler.maxConcurrentWithinAPartition()).isEqualTo(1);
    assertThat(handler.maxConcurrent())
        .as("handler calls running at once across conversations with 4 workers (threads seen: %s)",
            handler.calls().stream().map(Call::thread).distinct().toList())
        .isGreaterThan(1);
  }

  // ---- 2. retries with backoff -----------------------------------------------------------------

  @Test
  void transientFailureIsRetriedAfterTheBackoffAndTakesEffectOnce() throws Exception {
    FailsThenSucceeds handler = new FailsThenSucceeds(2);
    server = InProcessServer.start(dir, Map.of(
            "WEBHOOKD_PROCESS_RETRY_BASE", "200ms",
            "WEBHOOKD_PROCESS_RETRY_CAP", "2s",
            "WEBHOOKD_PROCESS_MAX_RETRIES", "3"),
        new HandlerRegistry().register("call.completed", handler));
    String id = EventBodies.newEventId("retry");

    HttpResponse<String> response = server.send(EventBodies.fixture(Fixtures.LEGACY_V3_CALL_COMPLETED, id));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getString("status")).isEqualTo("queued");
    Map<String, Object> row = server.awaitStatus(id, "processed", WAIT);
    List<Call> calls = handler.callsFor(id);
    assertThat(calls).extracting(Call::attempt).containsExactly(1, 2, 3);
    assertThat(calls).extracting(Call::succeeded).containsExactly(false, false, true);
    assertThat(handler.readThreads(id)).as("every attempt's body read where it began, not on the store's thread")
        .hasSize(3).doesNotContain(SqliteInboxStore.WRITER_THREAD);
    for (int retry = 0; retry < 2; retry++) {
      long backoff = 200L << retry;
      long gap = calls.get(retry + 1).startedAtMillis() - calls.get(retry).startedAtMillis();
      assertThat(gap).as("gap before retry %d (backoff %d ms + up to 10%% jitter)", retry, backoff)
          .isGreaterThanOrEqualTo(backoff)
          .isLessThan((long) (backoff * 1.1) + RETRY_SLACK_MILLIS);
    }
    assertThat(((Number) row.get("attempts")).intValue()).isEqualTo(3);
    assertThat(server.auditStates(id)).containsExactly(
        "received", "processing", "retry_scheduled", "processing", "retry_scheduled", "processing", "processed");
    assertThat(server.deadLetter(id)).isNull();
  }

  @Test
  void aRetryScheduledBeforeARestartHappensOnTimeAfterIt() throws Exception {
    FailsThenSucceeds handler = new FailsThenSucceeds(1);
    Map<String, String> slowRetries = Map.of(
        "WEBHOOKD_PROCESS_RETRY_BASE", "1500ms",
        "WEBHOOKD_PROCESS_RETRY_CAP", "10s",
        "WEBHOOKD_PROCESS_MAX_RETRIES", "3");
    server = InProcessServer.start(dir, slowRetries, new HandlerRegistry().register("call.completed", handler));
    String id = EventBodies.newEventId("restart");

    server.send(EventBodies.fixture(Fixtures.LEGACY_V3_CALL_COMPLETED, id));
    Poll.until("the retry to be scheduled", WAIT, () -> server.inboxRow(id),
        r -> r != null && "pending".equals(r.get("status")) && r.get("last_error") != null);
    server.stop();

    long dueAt = ((Number) server.inboxRow(id).get("due_at")).longValue();
    Call first = handler.callsFor(id).get(0);
    assertThat(dueAt - first.startedAtMillis()).as("the stored retry delay").isGreaterThanOrEqualTo(1500);
    server.startAgain(new HandlerRegistry().register("call.completed", handler));
    long restartedAt = System.currentTimeMillis();
    assertThat(restartedAt).as("restarted before the retry was due").isLessThan(dueAt);

    server.awaitStatus(id, "processed", WAIT);
    List<Call> calls = handler.callsFor(id);
    assertThat(calls).extracting(Call::attempt).containsExactly(1, 2);
    assertThat(calls.get(1).startedAtMillis()).as("the retry, against its stored due time %d", dueAt)
        .isGreaterThanOrEqualTo(dueAt)
        .isLessThan(dueAt + RETRY_SLACK_MILLIS);
    assertThat(server.auditStates(id)).containsExactly(
        "received", "processing", "retry_scheduled", "processing", "processed");
  }

  // ---- 4. dead-letter queue --------------------------------------------------------------------

  @Test
  void permanentFailuresAreDeadLetteredAtOnceAndTransientOnesWhenRetriesRunOut() throws Exception {
    AlwaysInvalid invalid = new AlwaysInvalid();
    AlwaysTransient failing = new AlwaysTransient();
    server = InProcessServer.start(dir, Map.of(
            "WEBHOOKD_PROCESS_RETRY_BASE", "200ms",
            "WEBHOOKD_PROCESS_RETRY_CAP", "2s",
            "WEBHOOKD_PROCESS_MAX_RETRIES", "2"),
        new HandlerRegistry().register("contact.updated", invalid).register("call.ringing", failing));
    String permanentId = EventBodies.newEventId("permanent");
    String transientId = EventBodies.newEventId("transient");

    server.send(EventBodies.fixture(Fixtures.LEGACY_V3_CONTACT_UPDATED, permanentId));
    server.send(EventBodies.fixture(Fixtures.LEGACY_V3_CALL_RINGING, transientId));

    Map<String, Object> permanentRow = server.awaitStatus(permanentId, "dead", WAIT);
    assertThat(((Number) permanentRow.get("attempts")).intValue()).isEqualTo(1);
    assertThat(invalid.callCount(permanentId)).isEqualTo(1);
    assertThat(server.auditStates(permanentId)).containsExactly("received", "processing", "dead_lettered");
    Map<String, Object> permanent = server.deadLetter(permanentId);
    assertThat(permanent).isNotNull();
    assertThat(permanent.get("event_type")).isEqualTo("contact.updated");
    assertThat((String) permanent.get("error"))
        .contains("InvalidEventException").contains("test handler refuses event " + permanentId);
    assertThat((String) permanent.get("stack_trace"))
        .contains(InvalidEventException.class.getName()).contains(AlwaysInvalid.class.getName());
    assertThat(((Number) permanent.get("attempts")).intValue()).isEqualTo(1);
    long permanentFirst = ((Number) permanent.get("first_failed_at")).longValue();
    long permanentLast = ((Number) permanent.get("last_failed_at")).longValue();
    assertThat(permanentFirst).isEqualTo(permanentLast)
        .isGreaterThanOrEqualTo(invalid.callsFor(permanentId).get(0).startedAtMillis());
    assertThat(((Number) permanent.get("dead_at")).longValue()).isGreaterThanOrEqualTo(permanentLast);
    assertThat(permanent.get("resolved_at")).isNull();

    Map<String, Object> transientRow = server.awaitStatus(transientId, "dead", WAIT);
    assertThat(((Number) transientRow.get("attempts")).intValue()).as("max-retries + 1").isEqualTo(3);
    List<Call> transientCalls = failing.callsFor(transientId);
    assertThat(transientCalls).extracting(Call::attempt).containsExactly(1, 2, 3);
    assertThat(server.auditStates(transientId)).containsExactly("received", "processing", "retry_scheduled",
        "processing", "retry_scheduled", "processing", "dead_lettered");
    Map<String, Object> dead = server.deadLetter(transientId);
    assertThat(dead).isNotNull();
    assertThat(dead.get("event_type")).isEqualTo("call.ringing");
    assertThat((String) dead.get("error")).contains("OutboundHttpException").contains("503");
    assertThat(dead.get("error")).isEqualTo(transientRow.get("last_error"));
    assertThat((String) dead.get("stack_trace")).contains(OutboundHttpException.class.getName())
        .contains(AlwaysTransient.class.getName());
    assertThat(((Number) dead.get("attempts")).intValue()).isEqualTo(3);
    long first = ((Number) dead.get("first_failed_at")).longValue();
    long last = ((Number) dead.get("last_failed_at")).longValue();
    assertThat(first).as("first failure, after the first attempt began")
        .isGreaterThanOrEqualTo(transientCalls.get(0).startedAtMillis())
        .isLessThan(transientCalls.get(1).startedAtMillis());
    assertThat(last).as("last failure, after the third attempt began")
        .isGreaterThanOrEqualTo(transientCalls.get(2).startedAtMillis());
    assertThat(last - first).as("the two backoffs between first and last failure").isGreaterThanOrEqualTo(200 + 400);
    assertThat(((Number) dead.get("dead_at")).longValue()).isGreaterThanOrEqualTo(last);
  }

  // ---- 5. dead-letter alerts -------------------------------------------------------------------

  private record Alert(JsonObject body, String contentType, long receivedAtNanos, int answeredWith) {
  }

  /** A local alert webhook; answers each request with the next status, then 200. */
  private String startAlertWebhook(List<Alert> alerts, int... statuses) {
    alertVertx = Vertx.vertx();
    AtomicInteger seen = new AtomicInteger();
    HttpServer webhook = alertVertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      int n = seen.getAndIncrement();
      int status = n < statuses.length ? statuses[n] : 200;
      alerts.add(new Alert(body.toJsonObject(), request.getHeader("Content-Type"), System.nanoTime(), status));
      request.response().setStatusCode(status).end();
    }));
    int port = webhook.listen(0, "127.0.0.1").await().actualPort();
    return "http://127.0.0.1:" + port + "/alert";
  }

  @Test
  void deadLetteredInboundTextRaisesASlackAlertRetriedAfterA500() throws Exception {
    List<Alert> alerts = new CopyOnWriteArrayList<>();
    String url = startAlertWebhook(alerts, 500);
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_ALERTS_WEBHOOK_URL", url),
        new HandlerRegistry().register("message.received", new AlwaysInvalid()));
    String id = EventBodies.newEventId("alert");

    HttpResponse<String> response = server.send(EventBodies.fixture(Fixtures.LEGACY_V2_MESSAGE_RECEIVED, id));

    assertThat(response.statusCode()).isEqualTo(200);
    server.awaitStatus(id, "dead", WAIT);
    Poll.until("the alert to be delivered", WAIT, () -> List.copyOf(alerts),
        list -> list.stream().anyMatch(a -> a.answeredWith() == 200));
    assertThat(alerts).extracting(Alert::answeredWith).startsWith(500, 200);
    assertThat(alerts).allSatisfy(alert -> {
      assertThat(alert.contentType()).startsWith("application/json");
      assertThat(alert.body().fieldNames()).containsExactly("text");
      assertThat(alert.body().getString("text")).contains(id).contains("message.received");
    });
    long retryGapMillis = (alerts.get(1).receivedAtNanos() - alerts.get(0).receivedAtNanos()) / 1_000_000;
    assertThat(retryGapMillis).as("the alert's first retry delay").isGreaterThanOrEqualTo(450);
  }

  @Test
  void deadLetteredNonCriticalEventRaisesNoAlert() throws Exception {
    List<Alert> alerts = new CopyOnWriteArrayList<>();
    String url = startAlertWebhook(alerts);
    AlwaysInvalid invalid = new AlwaysInvalid();
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_ALERTS_WEBHOOK_URL", url),
        new HandlerRegistry().register("call.completed", invalid).register("message.received", invalid));
    String callId = EventBodies.newEventId("call");
    String textId = EventBodies.newEventId("text");

    server.send(EventBodies.fixture(Fixtures.LEGACY_V3_CALL_COMPLETED, callId));
    server.awaitStatus(callId, "dead", WAIT);
    assertThat(server.deadLetter(callId)).isNotNull();
    // A critical event dead-lettered afterwards: its alert shows the alert path works, and that by
    // then nothing was sent for the call.
    server.send(EventBodies.fixture(Fixtures.LEGACY_V2_MESSAGE_RECEIVED, textId));
    server.awaitStatus(textId, "dead", WAIT);
    Poll.until("the inbound text's alert", WAIT, () -> List.copyOf(alerts), list -> !list.isEmpty());

    assertThat(alerts).hasSize(1);
    assertThat(alerts.get(0).body().getString("text")).contains(textId).doesNotContain(callId);
  }

  // ---- 6. critical events answered after processing --------------------------------------------

  @Test
  void criticalEventIsAnsweredWithTheHandlersResult() throws Exception {
    Recording handler = new Recording();
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_PROCESS_CRITICAL_BUDGET", "2s"),
        new HandlerRegistry().register("message.received", handler));
    String id = EventBodies.newEventId("critical");
    warmUp();

    long started = System.nanoTime();
    HttpResponse<String> response = server.send(EventBodies.fixture(Fixtures.LEGACY_V2_MESSAGE_RECEIVED, id));
    long elapsedMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body())).isEqualTo(new JsonObject()
        .put("status", "processed")
        .put("event_id", id)
        .put("result", new JsonObject().put("handled", id).put("type", "message.received").put("attempt", 1)));
    assertThat(elapsedMillis).as("answered within the budget").isLessThan(2000);
    assertThat(handler.callCount(id)).isEqualTo(1);
    assertThat(server.status(id)).isEqualTo("processed");
  }

  /** The budget applies to processing by the workers; an attempt on arrival would hold the commit. */
  @Test
  void criticalEventSlowerThanTheBudgetIsAnsweredQueuedAndProcessedAfterwards() throws Exception {
    Recording slow = new Recording(Duration.ofMillis(1200));
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_PROCESS_CRITICAL_BUDGET", "300ms",
            "WEBHOOKD_PROCESS_FIRST_ATTEMPT_ON_ARRIVAL", "false"),
        new HandlerRegistry().register("message.received", slow));
    String id = EventBodies.newEventId("slowcritical");
    warmUp();

    long started = System.nanoTime();
    HttpResponse<String> response = server.send(EventBodies.fixture(Fixtures.LEGACY_V2_MESSAGE_RECEIVED, id));
    long elapsedMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()))
        .isEqualTo(new JsonObject().put("status", "queued").put("event_id", id));
    assertThat(elapsedMillis).as("waited for the budget, not for the handler")
        .isGreaterThanOrEqualTo(300).isLessThan(1200);
    server.awaitStatus(id, "processed", WAIT);
    assertThat(slow.callCount(id)).isEqualTo(1);
    assertThat(server.auditStates(id)).containsExactly("received", "processing", "processed");
  }

  /**
   * Through the workers (on PostgreSQL always; on SQLite with first attempts on arrival off), a
   * non-critical event's answer never waits for its handler.
   */
  @Test
  void nonCriticalEventIsAnsweredQueuedWithoutWaitingForProcessing() throws Exception {
    Recording slow = new Recording(Duration.ofMillis(1500));
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_PROCESS_CRITICAL_BUDGET", "5s",
            "WEBHOOKD_PROCESS_FIRST_ATTEMPT_ON_ARRIVAL", "false"),
        new HandlerRegistry().register("message.delivered", slow));
    String id = EventBodies.newEventId("delivered");
    warmUp();

    long started = System.nanoTime();
    HttpResponse<String> response = server.send(EventBodies.fixture(Fixtures.LEGACY_V2_MESSAGE_DELIVERED, id));
    long elapsedMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()))
        .isEqualTo(new JsonObject().put("status", "queued").put("event_id", id));
    assertThat(slow.callCount(id)).as("handler calls finished when the answer came").isZero();
    assertThat(elapsedMillis).as("answered without waiting for the 1.5 s handler").isLessThan(1000);
    server.awaitStatus(id, "processed", WAIT);
    assertThat(slow.callCount(id)).isEqualTo(1);
  }

  /**
   * On SQLite, an event whose conversation has nothing else waiting is processed in the commit that
   * stores it, on the store's writer thread: by the time its answer arrives it is processed, with
   * the same audit trail as through a worker. (When it may not, see WorkSchedulerTest.)
   */
  @Test
  void anIdleConversationsEventIsProcessedInTheCommitThatStoresIt() throws Exception {
    Recording handler = new Recording();
    // No claim on a timer: an arrival while a claim is on its way back goes through the workers.
    server = InProcessServer.start(dir, Map.of("WEBHOOKD_PROCESS_POLL_INTERVAL", "1m"),
        new HandlerRegistry().register("message.delivered", handler));
    warmUp();
    String id = EventBodies.newEventId("onarrival");
    Instant createdAt = Instant.parse("2024-05-01T10:00:00Z");

    HttpResponse<String> response = server.send(EventBodies.message("message.delivered", id, "CNarrival", createdAt, 0));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getString("status")).isEqualTo("queued");
    assertThat(server.status(id)).as("status when the answer came").isEqualTo("processed");
    assertThat(handler.callsFor(id)).singleElement().satisfies(call -> {
      assertThat(call.attempt()).isEqualTo(1);
      assertThat(call.thread()).isEqualTo(SqliteInboxStore.WRITER_THREAD);
    });
    assertThat(server.auditStates(id)).containsExactly("received", "processing", "processed");

  }

  // ---- 7. unknown types ------------------------------------------------------------------------

  @Test
  void eventOfAnUnknownTypeIsRecordedAsIgnored() throws Exception {
    Recording handler = new Recording();
    server = InProcessServer.start(dir, Map.of(),
        new HandlerRegistry().register("message.delivered", handler));
    String id = EventBodies.newEventId("task");

    HttpResponse<String> response = server.send(EventBodies.task("task.created", id, Instant.now()));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getString("status")).isEqualTo("queued");
    Map<String, Object> row = server.awaitStatus(id, "ignored", WAIT);
    assertThat(row.get("event_type")).isEqualTo("task.created");
    assertThat(server.auditStates(id)).containsExactly("received", "processing", "ignored");
    assertThat(server.query("SELECT detail FROM event_audit WHERE event_id = ? AND state = 'ignored'", id))
        .singleElement().satisfies(r -> assertThat((String) r.get("detail")).contains("no handler"));
    assertThat(server.deadLetter(id)).isNull();
    assertThat(handler.calls()).isEmpty();
  }

  // ---- 8. duplicates ---------------------------------------------------------------------------

  @Test
  void duplicateOfAProcessedEventDoesNotRunTheHandlerAgain() throws Exception {
    Recording handler = new Recording();
    server = InProcessServer.start(dir, Map.of(), new HandlerRegistry().register("message.delivered", handler));
    String conversation = "CNdup";
    Instant createdAt = Instant.parse("2024-05-01T10:00:00Z");
    String id = EventBodies.newEventId("dup");
    byte[] body = EventBodies.message("message.delivered", id, conversation, createdAt, 0);

    server.send(body);
    server.awaitStatus(id, "processed", WAIT);

    // The same delivery again, caught by the in-process dedup cache.
    HttpResponse<String> again = server.send(body);
    assertThat(new JsonObject(again.body()))
        .isEqualTo(new JsonObject().put("status", "duplicate_ignored").put("event_id", id));
    // A later event of the same conversation, once processed, shows the pipeline has moved past
    // anything the duplicate could have started.
    String marker = EventBodies.newEventId("marker");
    server.send(EventBodies.message("message.delivered", marker, conversation, createdAt.plusSeconds(1), 1));
    server.awaitStatus(marker, "processed", WAIT);
    assertThat(handler.callCount(id)).isEqualTo(1);

    // After a restart the cache is empty: the store's unique key catches it.
    server.startAgain(new HandlerRegistry().register("message.delivered", handler));
    HttpResponse<String> afterRestart = server.send(body);
    assertThat(new JsonObject(afterRestart.body()))
        .isEqualTo(new JsonObject().put("status", "duplicate_ignored").put("event_id", id));
    String secondMarker = EventBodies.newEventId("marker");
    server.send(EventBodies.message("message.delivered", secondMarker, conversation, createdAt.plusSeconds(2), 2));
    server.awaitStatus(secondMarker, "processed", WAIT);

    assertThat(handler.callCount(id)).isEqualTo(1);
    assertThat(server.query("SELECT status, attempts FROM inbox_events WHERE event_id = ?", id))
        .singleElement().satisfies(r -> {
          assertThat(r.get("status")).isEqualTo("processed");
          assertThat(((Number) r.get("attempts")).intValue()).isEqualTo(1);
        });
    assertThat(server.auditStates(id)).containsExactly("received", "processing", "processed", "duplicate", "duplicate");
  }
}
