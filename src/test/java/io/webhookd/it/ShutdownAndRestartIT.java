package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.it.WebhookClient.Answer;
import io.webhookd.testing.TestSigner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM stops the service gracefully (exit code 0, acknowledged events stored), and the store
 * recognises a duplicate that arrives after a restart, when the in-memory dedup cache is empty.
 */
class ShutdownAndRestartIT {

  /** Plain base64: used by the OpenPhone and seed schemes. */
  private static final String SECRET = TestSigner.newOpenPhoneSecret();
  /** {@code whsec_...}: used by Standard Webhooks, as Quo issues it. */
  private static final String STANDARD_SECRET = TestSigner.newStandardSecret();

  @TempDir
  Path dataDir;

  private ServerProcess start(String label) {
    return builder(label).start();
  }

  private ServerProcess.Builder builder(String label) {
    return ServerProcess.builder(dataDir).label(label).secrets(SECRET, STANDARD_SECRET);
  }

  private static String secretFor(Scheme scheme) {
    return scheme == Scheme.STANDARD_WEBHOOKS ? STANDARD_SECRET : SECRET;
  }

  /** An event to send: its body, its signature scheme, and the event id the service will use. */
  private record Delivery(Scheme scheme, byte[] body, String webhookId, String eventId) {

    static Delivery next(Scheme scheme, String hint) {
      String id = Bodies.uniqueId(hint);
      String webhookId = Bodies.uniqueWebhookId();
      return new Delivery(scheme, Bodies.eventFor(scheme, id), webhookId,
          scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : id);
    }

    Answer send(WebhookClient client) {
      return client.postWebhook(body, scheme.sign(secretFor(scheme), body, webhookId));
    }

    CompletableFuture<Answer> sendAsync(WebhookClient client) {
      return client.postWebhookAsync(body, scheme.sign(secretFor(scheme), body, webhookId));
    }
  }

  @Test
  void sigtermRightAfterServingExitsZeroAndEventsStayStored() throws Exception {
    List<Delivery> deliveries = new ArrayList<>();
    try (ServerProcess server = start("sigterm")) {
      WebhookClient client = new WebhookClient(server);
      for (int i = 0; i < 30; i++) {
        Delivery delivery = Delivery.next(Scheme.values()[i % 3], "sigterm");
        Answer answer = delivery.send(client);
        assertThat(answer.status()).as("%s", answer).isEqualTo(200);
        assertThat(answer.json().getString("status")).isEqualTo("queued");
        deliveries.add(delivery);
      }

      int exitCode = server.stop();

      assertThat(exitCode).as("exit code after SIGTERM\n%s", server.logTail()).isZero();
    }
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount()).isEqualTo(deliveries.size());
      for (Delivery delivery : deliveries) {
        assertThat(db.event(delivery.eventId())).as(delivery.eventId()).hasValueSatisfying(stored ->
            assertThat(stored.body()).isEqualTo(delivery.body()));
      }
    }
  }

  @Test
  void sigtermWhileRequestsAreInFlightExitsZeroAndKeepsEveryAcknowledgedEvent() throws Exception {
    Map<String, CompletableFuture<Answer>> inFlight = new LinkedHashMap<>();
    // Vert.x may keep a connection whose request it read after the stop began open until this
    // timeout (see the report on graceful shutdown); keep it short so the test stays quick.
    try (ServerProcess server = builder("sigterm-load").env("WEBHOOKD_HTTP_SHUTDOWN_TIMEOUT", "5s").start()) {
      WebhookClient client = new WebhookClient(server);
      for (int i = 0; i < 20; i++) {
        Delivery warmUp = Delivery.next(Scheme.values()[i % 3], "warm-up");
        assertThat(warmUp.send(client).status()).isEqualTo(200);
      }
      for (int i = 0; i < 150; i++) {
        Delivery delivery = Delivery.next(Scheme.values()[i % 3], "sigterm-load");
        inFlight.put(delivery.eventId(), delivery.sendAsync(client));
      }
      // SIGTERM as soon as the first answer is in, while the others are still on their way.
      CompletableFuture.anyOf(inFlight.values().toArray(CompletableFuture[]::new)).handle((a, e) -> null).join();

      int exitCode = server.stop();

      assertThat(exitCode).as("exit code after SIGTERM\n%s", server.logTail()).isZero();
    }

    List<String> acknowledged = new ArrayList<>();
    List<String> otherAnswers = new ArrayList<>();
    for (Map.Entry<String, CompletableFuture<Answer>> entry : inFlight.entrySet()) {
      // A request the stopping server no longer took fails on the client side; that is fine.
      Answer answer = entry.getValue().handle((a, e) -> a).join();
      if (answer == null) {
        continue;
      }
      if (answer.status() == 200) {
        acknowledged.add(entry.getKey());
      } else {
        otherAnswers.add(answer.toString());
      }
    }
    assertThat(acknowledged).isNotEmpty();
    // An answer that is not 200 may only tell the sender to retry later.
    assertThat(otherAnswers).allSatisfy(answer -> assertThat(answer).contains("status=503"));
    try (InboxDb db = InboxDb.open(dataDir)) {
      for (String eventId : acknowledged) {
        assertThat(db.eventCount(eventId)).as("acknowledged %s", eventId).isEqualTo(1);
      }
    }
  }

  @Test
  void duplicateArrivingAfterARestartIsStillDetected() throws Exception {
    List<Delivery> deliveries = new ArrayList<>();
    for (Scheme scheme : Scheme.values()) {
      deliveries.add(Delivery.next(scheme, "restart"));
    }

    try (ServerProcess first = start("restart-1")) {
      WebhookClient client = new WebhookClient(first);
      for (Delivery delivery : deliveries) {
        Answer answer = delivery.send(client);
        assertThat(answer.status()).as("%s", answer).isEqualTo(200);
        assertThat(answer.json().getString("status")).isEqualTo("queued");
      }
      assertThat(first.stop()).isZero();
    }

    Delivery fresh = Delivery.next(Scheme.OPENPHONE, "after-restart");
    try (ServerProcess second = start("restart-2")) {
      WebhookClient client = new WebhookClient(second);
      for (Delivery delivery : deliveries) {
        // The sender's retry: same event, signed anew; the new process has an empty dedup cache.
        Answer answer = delivery.send(client);
        assertThat(answer.status()).as("%s: %s", delivery.scheme(), answer).isEqualTo(200);
        assertThat(answer.json().getString("status")).as("%s", delivery.scheme()).isEqualTo("duplicate_ignored");
        assertThat(answer.json().getString("event_id")).isEqualTo(delivery.eventId());
      }
      Answer answer = fresh.send(client);
      assertThat(answer.json().getString("status")).as("a new event after the restart").isEqualTo("queued");
      assertThat(second.stop()).isZero();
    }

    try (InboxDb db = InboxDb.open(dataDir)) {
      for (Delivery delivery : deliveries) {
        assertThat(db.eventCount(delivery.eventId())).as(delivery.eventId()).isEqualTo(1);
      }
      assertThat(db.eventCount()).isEqualTo(deliveries.size() + 1);
    }
  }
}
