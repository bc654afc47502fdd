package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.it.WebhookClient.Answer;
import io.webhookd.testing.TestSigner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 2xx is a promise: every acknowledged event survives {@code kill -9} and is processed once the
 * service runs again on the same data directory.
 */
class DurabilityIT {

  private static final int EVENTS = 200;
  private static final int SIGKILL_EXIT_CODE = 128 + 9;
  /**
   * Well under the 30 s lease: a restarted SQLite instance takes up at once what the killed one
   * left claimed, rather than waiting for the dead instance's leases to expire.
   */
  private static final Duration PROCESSED_WITHIN = Duration.ofSeconds(15);
  private static final String SECRET = TestSigner.newOpenPhoneSecret();

  @TempDir
  Path dataDir;

  @Test
  void everyAcknowledgedEventSurvivesKill9AndIsProcessedAfterRestart() throws Exception {
    List<String> acknowledged;
    try (ServerProcess server = start("durability")) {
      Map<String, CompletableFuture<Answer>> inFlight = sendConcurrently(new WebhookClient(server), null);
      CompletableFuture.allOf(inFlight.values().toArray(CompletableFuture[]::new)).join();
      acknowledged = acknowledged(inFlight);

      int exitCode = server.kill();

      assertThat(exitCode).isEqualTo(SIGKILL_EXIT_CODE);
      assertThat(acknowledged).as("acknowledged events\n%s", server.logTail()).hasSize(EVENTS);
    }

    assertStoredAndProcessedAfterRestart(acknowledged);
  }

  /**
   * The sharper version: kill -9 while half the requests are still in flight. Every answer the
   * client got was sent before the process died, so every 2xx among them must be stored; an
   * acknowledgement sent before its commit would show up here as a lost event.
   */
  @Test
  void eventsAcknowledgedBeforeAKill9MidStreamAreAllStored() throws Exception {
    Map<String, CompletableFuture<Answer>> inFlight;
    try (ServerProcess server = start("durability-mid-stream")) {
      CountDownLatch halfAcknowledged = new CountDownLatch(EVENTS / 2);
      inFlight = sendConcurrently(new WebhookClient(server), halfAcknowledged);
      assertThat(halfAcknowledged.await(30, TimeUnit.SECONDS)).as("half acknowledged\n%s", server.logTail()).isTrue();

      int exitCode = server.kill();

      assertThat(exitCode).isEqualTo(SIGKILL_EXIT_CODE);
    }
    // Requests cut off by the kill fail on the client side; only answers count.
    CompletableFuture.allOf(inFlight.values().stream().map(f -> f.handle((a, e) -> a))
        .toArray(CompletableFuture[]::new)).join();
    List<String> acknowledged = acknowledged(inFlight);
    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(EVENTS / 2);

    assertStoredAndProcessedAfterRestart(acknowledged);
  }

  private ServerProcess start(String label) {
    return ServerProcess.builder(dataDir).label(label).secrets(SECRET).start();
  }

  /** Sends {@link #EVENTS} distinct events at once, all three schemes; event id to answer. */
  private static Map<String, CompletableFuture<Answer>> sendConcurrently(WebhookClient client, CountDownLatch on2xx) {
    Map<String, CompletableFuture<Answer>> inFlight = new LinkedHashMap<>();
    for (int i = 0; i < EVENTS; i++) {
      Scheme scheme = Scheme.values()[i % 3];
      String id = Bodies.uniqueId("durable");
      String webhookId = Bodies.uniqueWebhookId();
      byte[] body = Bodies.eventFor(scheme, id);
      CompletableFuture<Answer> answer = client.postWebhookAsync(body, scheme.sign(SECRET, body, webhookId));
      if (on2xx != null) {
        answer.thenAccept(a -> {
          if (a.status() / 100 == 2) {
            on2xx.countDown();
          }
        });
      }
      inFlight.put(scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : id, answer);
    }
    return inFlight;
  }

  private static List<String> acknowledged(Map<String, CompletableFuture<Answer>> answers) {
    List<String> acknowledged = new ArrayList<>();
    answers.forEach((eventId, answer) -> {
      Answer a = answer.handle((ok, failed) -> ok).join();
      if (a != null && a.status() / 100 == 2) {
        assertThat(a.json().getString("status")).isEqualTo("queued");
        acknowledged.add(eventId);
      }
    });
    return acknowledged;
  }

  private void assertStoredAndProcessedAfterRestart(List<String> acknowledged) throws Exception {
    try (ServerProcess restarted = start("durability-restarted"); InboxDb db = InboxDb.open(dataDir)) {
      Map<String, String> statuses = db.statuses();
      assertThat(statuses.keySet()).as("stored after kill -9").containsAll(acknowledged);

      Poll.until("every acknowledged event processed", PROCESSED_WITHIN,
          () -> unprocessed(db.statuses(), acknowledged), List::isEmpty);

      assertThat(restarted.stop()).isZero();
    }
  }

  private static List<String> unprocessed(Map<String, String> statuses, List<String> eventIds) {
    return eventIds.stream().filter(id -> !"processed".equals(statuses.get(id)))
        .map(id -> id + "=" + statuses.get(id)).toList();
  }
}
