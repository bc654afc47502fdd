package io.webhookd.observe;

import static io.webhookd.observe.MetricsEndToEndTest.expect;
import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.chaos.TcpProxy;
import io.webhookd.chaos.TcpProxy.Mode;
import io.webhookd.observe.ObserveHandlers.Gate;
import io.webhookd.observe.ObserveHandlers.Permanent;
import io.webhookd.observe.ObserveHandlers.Recording;
import io.webhookd.observe.ObservedServer.Ready;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestServices;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /ready} on the management port as its inputs change: a backlog above the configured
 * threshold and an event waiting too long (degraded, then healthy once drained), a failing majority
 * of processing attempts (degraded), the store out of reach (unhealthy, 503, then healthy again) and
 * Redis out of reach (degraded). Every wait polls against a deadline; the backlog figures are read
 * from the store every 5 s, so those waits take up to that long.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReadinessTest {

  @TempDir
  Path dir;

  private ObservedServer server;
  private PrivateDatabase database;
  private TcpProxy proxy;
  private Gate gate;

  @AfterEach
  void stop() throws Exception {
    if (gate != null) {
      gate.release();
    }
    if (server != null) {
      server.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (database != null) {
      database.close();
    }
  }

  @Test
  void aFreshServerIsHealthyWithEveryCheck() throws Exception {
    server = ObservedServer.start(dir, Map.of(), new HandlerRegistry());
    Ready ready = server.awaitReady("healthy", r -> "healthy".equals(r.status()));
    assertThat(ready.httpStatus()).isEqualTo(200);
    assertThat(ready.body().getJsonObject("checks").fieldNames()).as("checks without Redis configured")
        .containsExactlyInAnyOrder("store", "queue", "oldest_pending", "success_rate");
    assertThat(ready.body().getJsonObject("checks").stream())
        .allSatisfy(check -> assertThat(((io.vertx.core.json.JsonObject) check.getValue()).getString("status"))
            .as("status of check %s", check.getKey()).isEqualTo("healthy"));
    assertThat(server.get("/health").status()).isEqualTo(200);
    assertThat(server.get("/health").json().getString("status")).isEqualTo("healthy");
  }

  @Test
  void aBacklogAboveTheThresholdIsDegradedUntilItDrains() throws Exception {
    gate = new Gate();
    startOnPostgres(Map.of("WEBHOOKD_MANAGEMENT_QUEUE_DEGRADED_ABOVE", "5"),
        new HandlerRegistry().register("message.delivered", gate));
    server.awaitReady("healthy before any traffic", r -> "healthy".equals(r.status()));

    for (int i = 0; i < 8; i++) {
      expect(server.post(ObserveBodies.delivered(ObserveBodies.newId("q" + i))), 200, "queued");
    }
    Ready degraded = server.awaitReady("degraded by the backlog of 8",
        r -> "degraded".equals(r.status()) && r.check("queue").getLong("size", -1L) == 8);
    assertThat(degraded.httpStatus()).as("degraded is still ready").isEqualTo(200);
    assertThat(degraded.checkStatus("queue")).isEqualTo("degraded");
    assertThat(degraded.check("queue").getLong("degraded_above")).isEqualTo(5L);
    assertThat(degraded.checkStatus("store")).isEqualTo("healthy");
    assertThat(degraded.checkStatus("oldest_pending")).as("the default 5 minutes have not passed").isEqualTo("healthy");
    assertThat(server.metrics().value("webhook_queue_size")).isEqualTo(8.0);
    assertThat(gate.holding()).as("events held by the handler").isPositive();

    gate.release();
    Ready healthy = server.awaitReady("healthy once the backlog is processed",
        r -> "healthy".equals(r.status()) && r.check("queue").getLong("size", -1L) == 0);
    assertThat(healthy.httpStatus()).isEqualTo(200);
    assertThat(server.metrics().value("webhook_queue_size")).isEqualTo(0.0);
    assertThat(gate.calls()).as("handler calls").hasSizeGreaterThanOrEqualTo(8);
  }

  @Test
  void anEventWaitingLongerThanConfiguredIsDegradedUntilProcessed() throws Exception {
    gate = new Gate();
    startOnPostgres(Map.of("WEBHOOKD_MANAGEMENT_OLDEST_PENDING_DEGRADED_AFTER", "1s"),
        new HandlerRegistry().register("message.delivered", gate));
    expect(server.post(ObserveBodies.delivered(ObserveBodies.newId("old"))), 200, "queued");
    Ready degraded = server.awaitReady("degraded by the waiting event",
        r -> "degraded".equals(r.status()) && "degraded".equals(r.checkStatus("oldest_pending")));
    assertThat(degraded.httpStatus()).isEqualTo(200);
    assertThat(degraded.check("oldest_pending").getLong("age_seconds")).isGreaterThanOrEqualTo(1L);
    assertThat(degraded.checkStatus("queue")).as("1 event is no backlog").isEqualTo("healthy");

    gate.release();
    server.awaitReady("healthy once processed", r -> "healthy".equals(r.status())
        && r.check("oldest_pending").getLong("age_seconds", -1L) == 0);
  }

  @Test
  void aMajorityOfFailedAttemptsIsDegraded() throws Exception {
    Recording ok = new Recording();
    Permanent failing = new Permanent();
    server = ObservedServer.start(dir, Map.of(),
        new HandlerRegistry().register("message.delivered", ok).register("contact.updated", failing));
    for (int i = 0; i < 10; i++) {
      expect(server.post(ObserveBodies.delivered(ObserveBodies.newId("ok" + i))), 200, "queued");
    }
    Ready allGood = server.awaitReady("10 successes counted",
        r -> r.check("success_rate").getLong("succeeded", -1L) == 10);
    assertThat(allGood.status()).isEqualTo("healthy");
    assertThat(allGood.check("success_rate").getLong("percent")).isEqualTo(100L);

    // 10 of 21 succeeded: 47 %, under the default 50 %.
    for (int i = 0; i < 11; i++) {
      expect(server.post(ObserveBodies.contactUpdated(ObserveBodies.newId("bad" + i))), 200, "queued");
    }
    Ready degraded = server.awaitReady("11 failures counted",
        r -> r.check("success_rate").getLong("failed", -1L) == 11);
    assertThat(degraded.status()).isEqualTo("degraded");
    assertThat(degraded.httpStatus()).isEqualTo(200);
    assertThat(degraded.checkStatus("success_rate")).isEqualTo("degraded");
    assertThat(degraded.check("success_rate").getLong("percent")).isEqualTo(47L);
    assertThat(degraded.checkStatus("store")).isEqualTo("healthy");
  }

  @Test
  void theSuccessRateThresholdIsConfigurable() throws Exception {
    server = ObservedServer.start(dir, Map.of("WEBHOOKD_MANAGEMENT_SUCCESS_RATE_DEGRADED_BELOW", "40"),
        new HandlerRegistry().register("message.delivered", new Recording())
            .register("contact.updated", new Permanent()));
    for (int i = 0; i < 10; i++) {
      expect(server.post(ObserveBodies.delivered(ObserveBodies.newId("ok" + i))), 200, "queued");
    }
    for (int i = 0; i < 11; i++) {
      expect(server.post(ObserveBodies.contactUpdated(ObserveBodies.newId("bad" + i))), 200, "queued");
    }
    Ready ready = server.awaitReady("21 outcomes counted", r -> r.check("success_rate").getLong("succeeded", -1L)
        + r.check("success_rate").getLong("failed", -1L) == 21);
    assertThat(ready.check("success_rate").getLong("percent")).isEqualTo(47L);
    assertThat(ready.checkStatus("success_rate")).as("47 %% is not under 40 %%").isEqualTo("healthy");
    assertThat(ready.status()).isEqualTo("healthy");
  }

  @Test
  void anUnreachableStoreIsUnhealthyWith503AndRecovers() throws Exception {
    Recording handler = new Recording();
    startOnPostgresBehindProxy(Map.of(), new HandlerRegistry().register("message.delivered", handler));
    server.awaitReady("healthy", r -> r.httpStatus() == 200 && "healthy".equals(r.status()));

    proxy.cut(Mode.REFUSE);
    Ready unhealthy = server.awaitReady("unhealthy with the store gone",
        r -> r.httpStatus() == 503 && "unhealthy".equals(r.status()));
    assertThat(unhealthy.checkStatus("store")).isEqualTo("unhealthy");
    assertThat(unhealthy.check("store").getString("message")).as("no internal detail").isEqualTo("storage unavailable");

    // Nothing can be acknowledged meanwhile: the sender is told to retry, and it is counted.
    String id = ObserveBodies.newId("outage");
    expect(server.post(ObserveBodies.delivered(id)), 503, "storage_unavailable");
    assertThat(server.metrics().series("webhook_rejected_total", "reason"))
        .isEqualTo(MetricsEndToEndTest.expected("reason=storage_unavailable", 1));

    proxy.restore();
    Ready healthy = server.awaitReady("healthy again with the store back",
        r -> r.httpStatus() == 200 && "healthy".equals(r.status()));
    assertThat(healthy.checkStatus("store")).isEqualTo("healthy");
    // The sender's retry is stored and processed.
    expect(server.post(ObserveBodies.delivered(id)), 200, "queued");
    Poll.until("the retried event processed", ObservedServer.WAIT, handler::calls,
        calls -> calls.contains(id + "#1"));
  }

  @Test
  void anUnreachableRedisIsDegradedAndWebhooksAreStillAccepted() throws Exception {
    String nowhere = "redis://127.0.0.1:" + InProcessServer.freePort();
    server = ObservedServer.start(dir, Map.of("WEBHOOKD_REDIS_URL", nowhere, "WEBHOOKD_REDIS_TIMEOUT", "100ms"),
        new HandlerRegistry().register("message.delivered", new Recording()));
    Ready degraded = server.awaitReady("degraded without Redis", r -> "degraded".equals(r.status()));
    assertThat(degraded.httpStatus()).isEqualTo(200);
    assertThat(degraded.checkStatus("redis")).isEqualTo("degraded");
    assertThat(degraded.checkStatus("store")).isEqualTo("healthy");
    assertThat(degraded.body().encode()).as("no connection detail in the verdict").doesNotContain(nowhere);
    String id = ObserveBodies.newId("noredis");
    expect(server.post(ObserveBodies.delivered(id)), 200, "queued");
    expect(server.post(ObserveBodies.delivered(id)), 200, "duplicate_ignored");
  }

  @Test
  void aReachableRedisIsAHealthyCheck() throws Exception {
    String redis = TestServices.redis();
    server = ObservedServer.start(dir, Map.of("WEBHOOKD_REDIS_URL", redis), new HandlerRegistry());
    Ready ready = server.awaitReady("healthy with Redis", r -> "healthy".equals(r.status()));
    assertThat(ready.checkStatus("redis")).isEqualTo("healthy");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private void startOnPostgres(Map<String, String> overrides, HandlerRegistry handlers) throws Exception {
    database = PrivateDatabase.create("observe");
    server = ObservedServer.start(dir, postgresSettings(database.url(), overrides), handlers);
  }

  private void startOnPostgresBehindProxy(Map<String, String> overrides, HandlerRegistry handlers) throws Exception {
    database = PrivateDatabase.create("observe");
    proxy = TcpProxy.to(database.host(), database.port());
    server = ObservedServer.start(dir, postgresSettings(database.urlVia("127.0.0.1", proxy.port()), overrides),
        handlers);
  }

  /**
   * PostgreSQL, and room for held events: at most 2 events in handlers at once (each holds a
   * transaction, so a connection), a pool with plenty left for ingest, the backlog reading and the
   * store check, and a lease longer than any wait here.
   */
  private static Map<String, String> postgresSettings(String url, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("WEBHOOKD_PG_URL", url);
    env.put("WEBHOOKD_PG_POOL_SIZE", "12");
    env.put("WEBHOOKD_PROCESS_MAX_IN_FLIGHT", "2");
    env.put("WEBHOOKD_PROCESS_LEASE", "60s");
    env.put("WEBHOOKD_STORE_COMMIT_TIMEOUT", "2s");
    env.putAll(overrides);
    return env;
  }
}
