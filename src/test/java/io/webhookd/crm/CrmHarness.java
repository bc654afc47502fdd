package io.webhookd.crm;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxStores;
import io.webhookd.store.Tx;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every CRM scenario runs on: a {@link FakeOpenPhone} API, the whole service in this JVM
 * ({@link InProcessServer}, i.e. {@code WebhookdServer.start}) with the CRM handlers, on the store a
 * subclass provides (SQLite in the test's directory, or the test PostgreSQL database), plus a second
 * handle on the same store for setting things up the way an operator's command would
 * ({@code store.inTransaction}), and reads of what the service stored.
 *
 * <p>Waits poll against a deadline; nothing sleeps for a fixed time.
 */
abstract class CrmHarness {

  static final Duration WAIT = Duration.ofSeconds(15);
  static final String API_KEY = "test-api-key-7f3a";
  private static final Set<String> FINAL_STATUSES = Set.of("processed", "ignored", "dead", "discarded");

  @TempDir
  Path dir;

  FakeOpenPhone api;
  InProcessServer server;
  private final String standardSecret = TestSigner.newStandardSecret();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private Vertx storeVertx;
  private InboxStore store;

  // ---- what a store subclass provides -----------------------------------------------------------

  /** Prepares the store (emptied) and returns the {@code WEBHOOKD_*} settings that select it. */
  abstract Map<String, String> storeSettings() throws Exception;

  /** The lines of a YAML config file that select the same store, for CLI commands. */
  abstract String storeYaml();

  /** Rows of a query on the store, by lower-case column name. */
  abstract List<Map<String, Object>> rows(String sql, Object... params);

  /** Releases what {@link #storeSettings} opened. */
  void closeStore() throws Exception {
  }

  // ---- the service ------------------------------------------------------------------------------

  void startService() throws Exception {
    startService(null);
  }

  /** Starts the fake API and the service; {@code automationRules} is the rules file's YAML, or null for none. */
  void startService(String automationRules) throws Exception {
    api = FakeOpenPhone.start();
    Path rules = dir.resolve("automation.yaml");
    if (automationRules != null) {
      Files.writeString(rules, automationRules.replace("${FAKE}", api.baseUrl()));
    }
    Path secrets = dir.resolve("standard-secret.txt");
    Files.writeString(secrets, standardSecret + "\n");
    Map<String, String> env = new HashMap<>(storeSettings());
    env.put("WEBHOOKD_OPENPHONE_API_BASE_URL", api.baseUrl());
    env.put("WEBHOOKD_OPENPHONE_API_KEY", API_KEY);
    env.put("WEBHOOKD_OPENPHONE_API_TIMEOUT", "5s");
    env.put("WEBHOOKD_OPENPHONE_SEND_RATE", "500");
    env.put("WEBHOOKD_OPENPHONE_SECRETS_FILE", secrets.toString());
    env.put("WEBHOOKD_CRM_AUTOMATION_FILE", rules.toString());
    env.put("WEBHOOKD_PROCESS_RETRY_BASE", "200ms");
    env.put("WEBHOOKD_PROCESS_RETRY_CAP", "1s");
    env.put("WEBHOOKD_PROCESS_MAX_RETRIES", "3");
    // These tests are about the CRM's effects, not about surviving power loss: spare the fsyncs.
    env.put("WEBHOOKD_STORE_SQLITE_SYNCHRONOUS", "NORMAL");
    // Critical events (inbound texts) are answered after processing: give it room on a slow machine.
    env.put("WEBHOOKD_PROCESS_CRITICAL_BUDGET", "8s");
    // The handlers need the same CRM settings the server gets (ports and data dir do not matter to them).
    Path emptyYaml = dir.resolve("empty.yaml");
    Files.writeString(emptyYaml, "");
    Settings crmSettings = SettingsLoader.load(emptyYaml, env);
    Path workDir = Files.createDirectories(dir.resolve("service"));
    server = InProcessServer.start(workDir, env, CrmHandlers.registry(crmSettings));
  }

  Settings settings() {
    return server.settings();
  }

  @AfterEach
  void stopService() throws Exception {
    try {
      if (server != null) {
        server.stop();
      }
      if (store != null) {
        store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      if (storeVertx != null) {
        storeVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      if (api != null) {
        api.close();
      }
    } finally {
      closeStore();
    }
  }

  /** Runs {@code work} in one transaction on the service's store, as an operator's command would. */
  <T> T inTransaction(Function<Tx, Future<T>> work) throws Exception {
    return store().inTransaction(work).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /**
   * A second handle on the service's store, opened on first use. Open it only while no event is being
   * processed: opening a SQLite store puts events left 'processing' (by a previous run) back to pending.
   */
  InboxStore store() throws Exception {
    if (store == null) {
      storeVertx = Vertx.vertx();
      store = InboxStores.open(storeVertx, server.settings(), "crm-test");
    }
    return store;
  }

  // ---- sending webhooks -------------------------------------------------------------------------

  /**
   * POSTs the body signed as its envelope generation is: 2026-03-30 bodies with Standard Webhooks
   * headers ({@code webhook-id} = the envelope id, stable across redeliveries), older ones with
   * {@code openphone-signature}. Asserts a 200 and returns the answer.
   */
  JsonObject send(JsonObject body) throws Exception {
    HttpResponse<String> response = sendRaw(body).get(20, TimeUnit.SECONDS);
    assertThat(response.statusCode()).as("answer to %s: %s", body.getString("type"), response.body()).isEqualTo(200);
    return new JsonObject(response.body());
  }

  /** As {@link #send}, without waiting or checking. */
  CompletableFuture<HttpResponse<String>> sendRaw(JsonObject body) {
    byte[] bytes = CrmBodies.bytes(body);
    if (!"2026-03-30".equals(body.getString("apiVersion"))) {
      return server.sendAsync(bytes);
    }
    String webhookId = body.getString("id");
    long seconds = System.currentTimeMillis() / 1000;
    HttpRequest request = HttpRequest.newBuilder(server.webhookUri())
        .timeout(Duration.ofSeconds(15))
        .header("Content-Type", "application/json")
        .header(TestSigner.WEBHOOK_ID, webhookId)
        .header(TestSigner.WEBHOOK_TIMESTAMP, Long.toString(seconds))
        .header(TestSigner.WEBHOOK_SIGNATURE, TestSigner.standardSignature(standardSecret, webhookId, seconds, bytes))
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** Sends the body and waits until its event is processed; returns the answer. */
  JsonObject sendAndAwait(JsonObject body) throws Exception {
    JsonObject answer = send(body);
    awaitProcessed(body.getString("id"));
    return answer;
  }

  /** Waits until the event is done, and asserts that it was processed (not dead-lettered or ignored). */
  void awaitProcessed(String eventId) {
    Map<String, Object> row = await("event " + eventId + " to be processed",
        () -> one("SELECT status, attempts, last_error FROM inbox_events WHERE source = 'openphone' AND event_id = ?",
            eventId),
        r -> r != null && FINAL_STATUSES.contains((String) r.get("status")));
    assertThat(row.get("status")).as("event %s: %s", eventId, row).isEqualTo("processed");
  }

  // ---- reading ----------------------------------------------------------------------------------

  Map<String, Object> one(String sql, Object... params) {
    List<Map<String, Object>> rows = rows(sql, params);
    assertThat(rows.size()).as("rows of %s", sql).isLessThanOrEqualTo(1);
    return rows.isEmpty() ? null : rows.get(0);
  }

  long count(String sql, Object... params) {
    Object value = rows(sql, params).get(0).values().iterator().next();
    return ((Number) value).longValue();
  }

  static Long number(Object value) {
    return value == null ? null : ((Number) value).longValue();
  }

  /** The outbound texts of a kind to a number, oldest first. */
  List<Map<String, Object>> outbound(String kind, String to) {
    return rows("""
        SELECT id, dedup_key, kind, to_number, from_number, body, campaign_id, state, attempts, last_error,
               provider_message_id
        FROM outbound_messages WHERE kind = ? AND to_number = ? ORDER BY id""", kind, to);
  }

  /** Waits until there is at least one outbound text of that kind to that number and all are in {@code state}. */
  List<Map<String, Object>> awaitOutbound(String kind, String to, String state) {
    return await(kind + " text to " + to + " to be " + state, () -> outbound(kind, to),
        list -> !list.isEmpty() && list.stream().allMatch(row -> state.equals(row.get("state"))));
  }

  boolean optedOut(String phone) {
    Map<String, Object> row = one("SELECT opted_out FROM contact_phones WHERE phone = ?", phone);
    assertThat(row).as("contact_phones row of %s", phone).isNotNull();
    return number(row.get("opted_out")) == 1;
  }

  static <T> T await(String what, Callable<T> probe, Predicate<T> done) {
    return Poll.until(what, WAIT, probe, done);
  }
}
