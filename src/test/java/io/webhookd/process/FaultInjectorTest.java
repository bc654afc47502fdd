package io.webhookd.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxStores;
import io.webhookd.store.InboxTransitions;
import io.webhookd.store.Tx;
import io.webhookd.testing.InProcessServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FaultInjector} alone, then through the real processing path (the whole service in this
 * JVM on SQLite): an injected fault rolls back what the handler wrote, is retried as transient,
 * dead-letters when retries run out, and a replay without faults applies the effect exactly once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultInjectorTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String EFFECT = "test_effect";

  @TempDir
  Path dir;

  private InProcessServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
  }

  private static int failures(FaultInjector faults, int calls) {
    int failed = 0;
    for (int i = 0; i < calls; i++) {
      Future<String> outcome = faults.beforeCommit("result");
      if (outcome.failed()) {
        failed++;
      } else {
        assertThat(outcome.result()).isEqualTo("result");
      }
    }
    return failed;
  }

  @Test
  void rateZeroNeverFails() {
    assertThat(FaultInjector.of(0)).isSameAs(FaultInjector.NONE);
    assertThat(failures(FaultInjector.NONE, 100_000)).isZero();
    // Even a source that would always pick a failure does not make rate 0 fail.
    assertThat(failures(new FaultInjector(0, () -> 0), 1_000)).isZero();
  }

  @Test
  void rateOneAlwaysFailsWithATransientFailure() {
    FaultInjector always = FaultInjector.of(1);
    assertThat(failures(always, 100_000)).isEqualTo(100_000);
    // The largest value below 1 a uniform source can give still fails.
    assertThat(failures(new FaultInjector(1, () -> Math.nextDown(1.0)), 1_000)).isEqualTo(1_000);

    Throwable fault = always.beforeCommit("result").cause();
    assertThat(fault).isInstanceOf(FaultInjector.InjectedFault.class).hasMessageContaining("injected fault");
    assertThat(FailureKind.of(fault)).isEqualTo(FailureKind.TRANSIENT);
    assertThat(FailureKind.of(new IllegalStateException("wrapped", fault))).isEqualTo(FailureKind.TRANSIENT);
  }

  @Test
  void aFractionFailsAboutThatOften() {
    Random seeded = new Random(7);
    int failed = failures(new FaultInjector(0.3, seeded::nextDouble), 100_000);
    assertThat(failed / 100_000.0).isBetween(0.29, 0.31);
  }

  @Test
  void ratesOutsideZeroToOneAreRefused() {
    assertThatThrownBy(() -> FaultInjector.of(1.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FaultInjector.of(-0.1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FaultInjector.of(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
  }

  /** Writes one audit row of its own inside the processing transaction: the effect to count. */
  static final class WritesAnEffect implements EventHandler {
    private final List<Integer> attempts = new CopyOnWriteArrayList<>();

    @Override
    public Future<JsonObject> handle(InboxEvent event, JsonObject envelope, Tx tx) {
      return InboxTransitions.audit(tx, event, EFFECT, "attempt " + event.attempt(), "test", System.currentTimeMillis())
          .map(v -> {
            attempts.add(event.attempt());
            return new JsonObject().put("attempt", event.attempt());
          });
    }
  }

  @Test
  void injectedFaultsRollBackTheEffectsRetryThenDeadLetterAndAReplayAppliesThemOnce() throws Exception {
    WritesAnEffect handler = new WritesAnEffect();
    HandlerRegistry handlers = new HandlerRegistry().register("message.delivered", handler);
    server = InProcessServer.start(dir, Map.of(
        "WEBHOOKD_PROCESS_FAULT_RATE", "1",
        "WEBHOOKD_PROCESS_RETRY_BASE", "20ms",
        "WEBHOOKD_PROCESS_RETRY_CAP", "50ms",
        "WEBHOOKD_PROCESS_MAX_RETRIES", "2"), handlers);
    assertThat(server.settings().processing().faultRate()).isEqualTo(1.0);
    String id = EventBodies.newEventId("fault");
    assertThat(server.send(EventBodies.message("message.delivered", id, "CNfault", Instant.now(), 1)).statusCode())
        .isEqualTo(200);

    Map<String, Object> dead = server.awaitStatus(id, "dead", WAIT);
    assertThat(((Number) dead.get("attempts")).intValue()).as("max-retries + 1").isEqualTo(3);
    assertThat(handler.attempts).as("the handler wrote its effect on every attempt").containsExactly(1, 2, 3);
    assertThat(server.auditStates(id)).as("effects and 'processed' of every attempt rolled back")
        .containsExactly("received", "processing", "retry_scheduled", "processing", "retry_scheduled",
            "processing", "dead_lettered");
    assertThat((String) server.deadLetter(id).get("error")).contains("InjectedFault", "injected fault");

    // Without faults now, the operator replays the dead letter beside the running server.
    server.startAgain(handlers, Map.of("WEBHOOKD_PROCESS_FAULT_RATE", "0"));
    Vertx vertx = Vertx.vertx();
    try {
      InboxStore store = InboxStores.open(vertx, server.settings(), "test-operator");
      try {
        List<DeadLetterQueue.Entry> replayed = new DeadLetterQueue(store, "test-operator")
            .replayAll(new DeadLetterQueue.Filter(null, null, 0), false).await();
        assertThat(replayed).extracting(DeadLetterQueue.Entry::eventId).containsExactly(id);
      } finally {
        store.close().await();
      }
    } finally {
      vertx.close().await();
    }

    server.awaitStatus(id, "processed", WAIT);
    List<String> states = server.auditStates(id);
    assertThat(states.subList(7, states.size())).containsExactly("replayed", "processing", EFFECT, "processed");
    assertThat(states.stream().filter(EFFECT::equals)).as("the effect, exactly once").hasSize(1);
    assertThat(handler.attempts).containsExactly(1, 2, 3, 1);
    assertThat(server.deadLetter(id).get("resolution")).isEqualTo(DeadLetterQueue.REPLAYED);
  }
}
