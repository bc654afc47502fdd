package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.ingest.EnvelopeParser;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxStores;
import io.webhookd.store.InboxTransitions;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's commands run from the packaged jar as separate processes, next to the service
 * running from the same jar: replays are processed exactly once by a running server or at the next
 * start, {@code send} is accepted in every scheme, {@code sign} reproduces the Standard Webhooks
 * test vector, and stdout carries only the commands' results.
 */
class OperatorCliIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  /** What a log line looks like: a JSON object with a time (logback.xml), or text starting with one. */
  private static final Pattern LOG_LINE =
      Pattern.compile("(?m)^(\\{\"time\"|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3})");
  /** An INFO line, in either log format. */
  private static final Pattern INFO_LINE = Pattern.compile("\"level\":\"INFO\"|\\sINFO\\s");
  private static final String SECRET = TestSigner.newOpenPhoneSecret();

  @TempDir
  Path dir;

  // ---- sign, check-config, migrate: clean stdout -------------------------------------------------

  @Test
  void signReproducesTheStandardWebhooksTestVectorFromStdin() {
    CliProcess.Result result = new CliProcess(dir.resolve("cli")).run(
        "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8),
        "sign", "--scheme", "standard", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "--id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "--timestamp", "1614265330");

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\n"
        + "webhook-timestamp: 1614265330\n"
        + "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n");
    assertThat(result.err()).isEmpty();
  }

  @Test
  void storeCommandsPrintOnlyTheirResultsAndLogNothingAtInfo() {
    CliProcess cli = new CliProcess(dir.resolve("cli")).env("WEBHOOKD_DATA_DIR", dir.resolve("data").toString());

    CliProcess.Result migrate = cli.run("migrate");
    assertThat(migrate.exitCode()).as("%s", migrate).isZero();
    assertThat(migrate.lines().get(0)).matches("schema version \\d+ \\(sqlite .*webhookd\\.db\\)");
    assertThat(migrate.out()).doesNotContainPattern(LOG_LINE);
    assertThat(migrate.err()).as("INFO logs of Vert.x, Flyway and the store").doesNotContainPattern(INFO_LINE);

    CliProcess.Result list = cli.run("dlq", "list", "--json");
    assertThat(list.exitCode()).as("%s", list).isZero();
    assertThat(new JsonArray(list.out())).isEmpty();

    CliProcess.Result invalid = cli.env("WEBHOOKD_PROCESS_WORKERS", "none").run("dlq", "list");
    assertThat(invalid.exitCode()).as("%s", invalid).isEqualTo(2);
    assertThat(invalid.out()).isEmpty();
    assertThat(invalid.err().lines().toList()).containsExactly(
        "webhookd: invalid setting process.workers (WEBHOOKD_PROCESS_WORKERS): \"none\" is not a whole number");

    CliProcess.Result check = cli.run("check-config");
    assertThat(check.exitCode()).as("%s", check).isEqualTo(2);
  }

  // ---- dlq replay next to a running server ------------------------------------------------------

  @Test
  void aReplayWhileTheServerRunsIsProcessedExactlyOnce() throws Exception {
    Map<String, String> env = Map.of("WEBHOOKD_DATA_DIR", dir.resolve("data").toString());
    Dead dead = deadLetter(env, Fixtures.LEGACY_V2_MESSAGE_DELIVERED);
    CliProcess cli = cli(env);

    try (ServerProcess server = server(env).label("cli-replay-running").start()) {
      CliProcess.Result list = cli.run("dlq", "list", "--json");
      assertThat(list.exitCode()).as("%s", list).isZero();
      assertThat(ids(new JsonArray(list.out()))).containsExactly(dead.inboxId());
      assertThat(status(cli, dead)).as("the server leaves a dead letter alone").isEqualTo("dead");

      CliProcess.Result replay = cli.run("dlq", "replay", Long.toString(dead.inboxId()));
      assertThat(replay.exitCode()).as("%s", replay).isZero();
      assertThat(replay.out()).contains(Long.toString(dead.inboxId())).contains(dead.eventId());

      Poll.until("replayed event processed", WAIT, () -> status(cli, dead), "processed"::equals);
      assertThat(server.stop()).isZero();
    }
    JsonObject shown = show(cli, dead);
    assertThat(states(shown)).containsExactly(
        "received", "processing", "dead_lettered", "replayed", "processing", "processed");
    assertThat(shown.getJsonObject("dead_letter").getString("resolution")).isEqualTo("replayed");
    assertThat(new JsonArray(cli.run("dlq", "list", "--json").out())).isEmpty();
  }

  @Test
  void aReplayWithNoServerRunningIsProcessedAtTheNextStart() throws Exception {
    Map<String, String> env = Map.of("WEBHOOKD_DATA_DIR", dir.resolve("data").toString());
    Dead dead = deadLetter(env, Fixtures.LEGACY_V3_CALL_COMPLETED);
    CliProcess cli = cli(env);

    CliProcess.Result replay = cli.run("dlq", "replay", "--all", "--type", "call.completed");
    assertThat(replay.exitCode()).as("%s", replay).isZero();
    assertThat(status(cli, dead)).isEqualTo("pending");

    try (ServerProcess server = server(env).label("cli-replay-next-start").start()) {
      Poll.until("replayed event processed at start", WAIT, () -> status(cli, dead), "processed"::equals);
      assertThat(server.stop()).isZero();
    }
    assertThat(states(show(cli, dead)).stream().filter("processed"::equals)).hasSize(1);
  }

  @Test
  void aReplayOnPostgresWhileTwoServersRunIsProcessedExactlyOnce() throws Exception {
    try (PrivateDatabase db = PrivateDatabase.create("cli")) {
      Map<String, String> env = Map.of("WEBHOOKD_PG_URL", db.url(),
          "WEBHOOKD_DATA_DIR", dir.resolve("unused").toString());
      Dead dead = deadLetter(env, Fixtures.LEGACY_V2_MESSAGE_DELIVERED);
      CliProcess cli = cli(env);

      try (ServerProcess a = server(env).label("cli-pg-a").start();
           ServerProcess b = server(env).label("cli-pg-b").start()) {
        CliProcess.Result replay = cli.run("dlq", "replay", Long.toString(dead.inboxId()));
        assertThat(replay.exitCode()).as("%s", replay).isZero();

        Poll.until("replayed event processed", WAIT, () -> status(cli, dead), "processed"::equals);
        assertThat(a.stop()).isZero();
        assertThat(b.stop()).isZero();
      }
      assertThat(states(show(cli, dead))).containsExactly(
          "received", "processing", "dead_lettered", "replayed", "processing", "processed");
    }
  }

  // ---- send -------------------------------------------------------------------------------------

  @Test
  void sendIsAcceptedByTheServerInEveryScheme() throws Exception {
    Map<String, String> env = Map.of("WEBHOOKD_DATA_DIR", dir.resolve("data").toString());
    CliProcess cli = cli(env);

    try (ServerProcess server = server(env).label("cli-send").start()) {
      for (String scheme : List.of("openphone", "standard", "seed")) {
        CliProcess.Result sent = cli.run("send", "--url", server.uri(WebhookClient.WEBHOOK_PATH).toString(),
            "--scheme", scheme, "--secret", SECRET, "--type", "message.delivered");
        assertThat(sent.exitCode()).as("%s", sent).isZero();
        assertThat(sent.lines().get(0)).isEqualTo("HTTP 200");
        JsonObject answer = new JsonObject(sent.lines().get(1));
        assertThat(answer.getString("status")).isEqualTo("queued");

        CliProcess.Result shown = cli.run("events", "show", answer.getString("event_id"), "--json");
        assertThat(shown.exitCode()).as("%s", shown).isZero();
        assertThat(new JsonObject(shown.out()).getString("scheme"))
            .isEqualTo(scheme.equals("standard") ? "standard-webhooks" : scheme);
      }

      CliProcess.Result refused = cli.run("send", "--url", server.uri(WebhookClient.WEBHOOK_PATH).toString(),
          "--secret", TestSigner.newOpenPhoneSecret());
      assertThat(refused.exitCode()).as("%s", refused).isEqualTo(1);
      assertThat(refused.lines().get(0)).isEqualTo("HTTP 401");
      assertThat(server.stop()).isZero();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  record Dead(long inboxId, String eventId) {
  }

  private CliProcess cli(Map<String, String> env) {
    CliProcess cli = new CliProcess(dir.resolve("cli"));
    env.forEach(cli::env);
    return cli;
  }

  private static ServerProcess.Builder server(Map<String, String> env) {
    ServerProcess.Builder builder = ServerProcess.builder(Path.of(env.get("WEBHOOKD_DATA_DIR")))
        .secrets(SECRET)
        .env("WEBHOOKD_PROCESS_POLL_INTERVAL", "100ms");
    env.forEach(builder::env);
    return builder;
  }

  /**
   * A fixture event (with a fresh id) stored and dead-lettered through the store, in this JVM, as a
   * worker whose handler failed for good would; the store is closed again before any server starts.
   */
  private Dead deadLetter(Map<String, String> env, String fixture) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.yaml"), "");
    Settings settings = SettingsLoader.load(empty, new HashMap<>(env));
    byte[] body = Bodies.withId(fixture, Bodies.uniqueId("cli"));
    WebhookEvent event = EnvelopeParser.parse(body, "openphone", null, System.currentTimeMillis()).event();
    Vertx vertx = Vertx.vertx();
    InboxStore store = InboxStores.open(vertx, settings, "it-writer");
    try {
      long inboxId = store.append(event).await().inboxId();
      List<InboxEvent> claimed = store.claim("it-writer", 30_000, 10).await();
      assertThat(claimed).extracting(InboxEvent::inboxId).containsExactly(inboxId);
      store.inTransaction(tx -> InboxTransitions.deadLetter(tx, claimed.get(0), "it-writer",
          "OutboundHttpException: CRM answered 503", "java.lang.IllegalStateException: test\n\tat here")).await();
      store.release("it-writer", List.of(event.partitionKey())).await();
      return new Dead(inboxId, event.eventId());
    } finally {
      store.close().await();
      vertx.close().await();
    }
  }

  private static JsonObject show(CliProcess cli, Dead dead) {
    CliProcess.Result shown = cli.run("events", "show", Long.toString(dead.inboxId()), "--json");
    assertThat(shown.exitCode()).as("%s", shown).isZero();
    return new JsonObject(shown.out());
  }

  private static String status(CliProcess cli, Dead dead) {
    return show(cli, dead).getString("status");
  }

  private static List<String> states(JsonObject shown) {
    List<String> states = new ArrayList<>();
    JsonArray audit = shown.getJsonArray("audit");
    for (int i = 0; i < audit.size(); i++) {
      states.add(audit.getJsonObject(i).getString("state"));
    }
    return states;
  }

  private static List<Long> ids(JsonArray array) {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      ids.add(array.getJsonObject(i).getLong("id"));
    }
    return ids;
  }
}
