package io.webhookd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.ingest.EnvelopeParser;
import io.webhookd.ingest.WebhookSigner;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxStores;
import io.webhookd.store.InboxTransitions;
import io.webhookd.store.SqlRow;
import io.webhookd.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's store commands ({@code dlq}, {@code events}, {@code migrate}) end to end, specified
 * once and run on each adapter by a subclass: the test writes through the store as the service
 * does (append, claim, dead-letter), runs the command line in-process with its output captured, and
 * checks both what the command printed and what it changed in the store. Two tests run the whole
 * service next to the commands.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
abstract class OperatorCliContract {

  static final String OWNER = "cli-test-writer";
  static final Duration WAIT = Duration.ofSeconds(20);
  static final String ACTOR = StoreCommand.actor();

  @TempDir
  Path dir;

  /** The settings file every command of the test gets with {@code --config}. */
  Path config;
  Vertx vertx;
  /** The test's own handle on the store, writing as the service would. */
  InboxStore store;

  /** The YAML that selects the adapter under test on empty storage. */
  abstract String storeYaml(Path dir) throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    config = Files.writeString(dir.resolve("webhookd.yaml"), storeYaml(dir));
    Settings settings = SettingsLoader.load(config, Map.of());
    vertx = Vertx.vertx();
    store = InboxStores.open(vertx, settings, OWNER);
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close().await();
    }
    if (vertx != null) {
      vertx.close().await();
    }
  }

  // ---- dlq list ---------------------------------------------------------------------------------

  @Test
  void dlqListShowsOpenDeadLettersOldestFirst() throws Exception {
    long first = deadLetter("message.received", "InvalidEventException: the body has no sender");
    long second = deadLetter("call.completed", "OutboundHttpException: test CRM answered 503\n  (multi-line)");

    Cli.Result result = cli("dlq", "list");

    assertThat(result.exitCode()).as("%s", result).isZero();
    List<String> lines = result.lines();
    assertThat(lines.get(0)).startsWith("ID").contains("TYPE", "ATTEMPTS", "FIRST FAILURE", "LAST FAILURE", "ERROR");
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1)).startsWith(first + " ").contains("message.received", "InvalidEventException: the body has no sender");
    assertThat(lines.get(2)).startsWith(second + " ").contains("call.completed",
        "OutboundHttpException: test CRM answered 503 (multi-line)");
    assertThat(result.err()).isEmpty();
  }

  @Test
  void dlqListFiltersByTypeAndTimeAndLimits() throws Exception {
    long received = deadLetter("message.received", "boom 1");
    long call = deadLetter("call.completed", "boom 2");
    long received2 = deadLetter("message.received", "boom 3");

    assertThat(ids(cli("dlq", "list", "--json", "--type", "message.received"))).containsExactly(received, received2);
    assertThat(ids(cli("dlq", "list", "--json", "--since", "1h"))).containsExactly(received, call, received2);
    assertThat(ids(cli("dlq", "list", "--json", "--since", Instant.now().plusSeconds(3600).toString()))).isEmpty();

    Cli.Result limited = cli("dlq", "list", "--limit", "2");
    assertThat(limited.exitCode()).as("%s", limited).isZero();
    assertThat(limited.lines()).hasSize(3);
    assertThat(limited.err()).contains("first 2 shown");

    Cli.Result none = cli("dlq", "list", "--type", "contact.updated");
    assertThat(none.exitCode()).isZero();
    assertThat(none.out()).isEmpty();
    assertThat(none.err()).contains("no open dead letters match");
  }

  @Test
  void dlqListJsonCarriesEveryField() throws Exception {
    long id = deadLetter("message.delivered", "OutboundHttpException: 503");
    SqlRow inbox = inboxRow(id);

    JsonArray list = cli("dlq", "list", "--json").jsonArray();

    assertThat(list).hasSize(1);
    JsonObject entry = list.getJsonObject(0);
    assertThat(entry.getLong("id")).isEqualTo(id);
    assertThat(entry.getString("source")).isEqualTo("openphone");
    assertThat(entry.getString("event_id")).isEqualTo(inbox.string("event_id"));
    assertThat(entry.getString("type")).isEqualTo("message.delivered");
    assertThat(entry.getInteger("attempts")).isEqualTo(1);
    assertThat(entry.getString("error")).isEqualTo("OutboundHttpException: 503");
    assertThat(Instant.parse(entry.getString("first_failed_at"))).isEqualTo(Instant.ofEpochMilli(inbox.longValue("first_failed_at")));
    assertThat(Instant.parse(entry.getString("last_failed_at"))).isEqualTo(Instant.ofEpochMilli(inbox.longValue("last_failed_at")));
    assertThat(entry.getString("resolution")).isNull();
  }

  // ---- dlq show ---------------------------------------------------------------------------------

  @Test
  void dlqShowPrintsTheFailureTheStackTraceTheRawBodyAndTheAuditTrail() throws Exception {
    long id = deadLetter("message.received", "InvalidEventException: no sender");
    SqlRow inbox = inboxRow(id);
    String body = new String(inbox.bytes("body"), StandardCharsets.UTF_8);

    Cli.Result shown = cli("dlq", "show", Long.toString(id));

    assertThat(shown.exitCode()).as("%s", shown).isZero();
    assertThat(shown.out())
        .contains("openphone:" + inbox.string("event_id"))
        .contains("InvalidEventException: no sender")
        .contains("stack trace:")
        .contains("at io.webhookd.cli.OperatorCliContract.deadLetter")
        .contains(body)
        .contains("audit trail:")
        .containsSubsequence("received", "processing", "dead_lettered");
    assertThat(shown.out()).contains("resolution:").contains("open");

    JsonObject json = cli("dlq", "show", Long.toString(id), "--json").jsonObject();
    assertThat(json.getString("body")).isEqualTo(body);
    assertThat(json.getString("stack_trace")).contains("at io.webhookd.cli.OperatorCliContract.deadLetter");
    assertThat(json.getString("status")).isEqualTo("dead");
    assertThat(json.getString("partition_key")).isEqualTo(inbox.string("partition_key"));
    assertThat(states(json.getJsonArray("audit"))).containsExactly("received", "processing", "dead_lettered");
  }

  @Test
  void dlqShowOfAnUnknownIdFailsWithExitCode1() {
    Cli.Result result = cli("dlq", "show", "987654");

    assertThat(result.exitCode()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).contains("no dead letter with id 987654");
  }

  // ---- dlq replay -------------------------------------------------------------------------------

  @Test
  void replayPutsTheEventBackWithAFreshAttemptBudgetAndResolvesTheDeadLetter() throws Exception {
    long id = deadLetter("message.received", "boom");
    long other = deadLetter("message.received", "boom too");
    long before = System.currentTimeMillis();

    Cli.Result replay = cli("dlq", "replay", Long.toString(id));

    assertThat(replay.exitCode()).as("%s", replay).isZero();
    assertThat(replay.out()).contains(Long.toString(id)).doesNotContain(" " + other + " ");
    assertThat(replay.err()).contains("replayed 1 dead letter");
    SqlRow inbox = inboxRow(id);
    assertThat(inbox.string("status")).isEqualTo("pending");
    assertThat(inbox.intValue("attempts")).isZero();
    assertThat(inbox.longValue("due_at")).isBetween(before, System.currentTimeMillis());
    assertThat(inbox.string("lease_owner")).isNull();
    assertThat(inbox.longValue("lease_until")).isNull();
    SqlRow dead = deadLetterRow(id);
    assertThat(dead.string("resolution")).isEqualTo("replayed");
    assertThat(dead.string("resolved_by")).isEqualTo(ACTOR);
    assertThat(dead.longValue("resolved_at")).isBetween(before, System.currentTimeMillis());
    List<SqlRow> audit = audit(id);
    SqlRow last = audit.get(audit.size() - 1);
    assertThat(last.string("state")).isEqualTo("replayed");
    assertThat(last.string("actor")).isEqualTo(ACTOR);

    assertThat(ids(cli("dlq", "list", "--json"))).containsExactly(other);
    assertThat(inboxRow(other).string("status")).isEqualTo("dead");

    // Replayed once; not again.
    Cli.Result again = cli("dlq", "replay", Long.toString(id));
    assertThat(again.exitCode()).as("%s", again).isEqualTo(1);
    assertThat(again.err()).contains("id " + id + " is not in the dead-letter queue");
    assertThat(count("SELECT COUNT(*) AS n FROM event_audit WHERE inbox_id = ? AND state = 'replayed'", id)).isEqualTo(1);
  }

  @Test
  void replayOfSeveralIdsIsAllOrNothing() throws Exception {
    long id = deadLetter("message.received", "boom");

    Cli.Result result = cli("dlq", "replay", Long.toString(id), "424242");

    assertThat(result.exitCode()).as("%s", result).isEqualTo(1);
    assertThat(result.err()).contains("424242").contains("nothing was changed");
    assertThat(inboxRow(id).string("status")).isEqualTo("dead");
    assertThat(deadLetterRow(id).string("resolution")).isNull();
  }

  @Test
  void replayAllTakesWhatTheFiltersSelectAndDryRunChangesNothing() throws Exception {
    long call = deadLetter("call.completed", "boom 1");
    long text = deadLetter("message.received", "boom 2");
    long text2 = deadLetter("message.received", "boom 3");

    Cli.Result dry = cli("dlq", "replay", "--all", "--type", "message.received", "--dry-run", "--json");
    assertThat(dry.exitCode()).as("%s", dry).isZero();
    assertThat(ids(dry)).containsExactly(text, text2);
    assertThat(dry.err()).contains("would replay 2 dead letters").contains("nothing changed");
    assertThat(ids(cli("dlq", "list", "--json"))).containsExactly(call, text, text2);

    Cli.Result replay = cli("dlq", "replay", "--all", "--type", "message.received", "--since", "10m");
    assertThat(replay.exitCode()).as("%s", replay).isZero();
    assertThat(replay.out()).contains(Long.toString(text)).contains(Long.toString(text2));
    assertThat(ids(cli("dlq", "list", "--json"))).containsExactly(call);
    assertThat(inboxRow(text).string("status")).isEqualTo("pending");
    assertThat(inboxRow(text2).string("status")).isEqualTo("pending");

    Cli.Result nothing = cli("dlq", "replay", "--all", "--since", Instant.now().plusSeconds(60).toString());
    assertThat(nothing.exitCode()).isZero();
    assertThat(nothing.err()).contains("nothing replayed");
    assertThat(inboxRow(call).string("status")).isEqualTo("dead");
  }

  @Test
  void replayWithoutIdsOrWithBothIdsAndAllIsAUsageError() throws Exception {
    long id = deadLetter("message.received", "boom");

    for (String[] args : List.of(new String[] {"dlq", "replay"},
        new String[] {"dlq", "replay", "--all", Long.toString(id)},
        new String[] {"dlq", "replay", Long.toString(id), "--type", "message.received"},
        new String[] {"dlq", "replay", "not-a-number"})) {
      Cli.Result result = cli(args);
      assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
      assertThat(result.out()).isEmpty();
    }
    assertThat(inboxRow(id).string("status")).isEqualTo("dead");
  }

  // ---- dlq discard ------------------------------------------------------------------------------

  @Test
  void discardResolvesWithoutProcessingAndKeepsTheEventForAudit() throws Exception {
    long id = deadLetter("message.received", "boom");
    long id2 = deadLetter("call.completed", "boom");

    Cli.Result result = cli("dlq", "discard", Long.toString(id), Long.toString(id2), "--reason", "test traffic");

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.err()).contains("discarded 2 dead letters");
    for (long each : List.of(id, id2)) {
      assertThat(inboxRow(each).string("status")).isEqualTo("discarded");
      SqlRow dead = deadLetterRow(each);
      assertThat(dead.string("resolution")).isEqualTo("discarded: test traffic");
      assertThat(dead.string("resolved_by")).isEqualTo(ACTOR);
      List<SqlRow> audit = audit(each);
      SqlRow last = audit.get(audit.size() - 1);
      assertThat(last.string("state")).isEqualTo("discarded");
      assertThat(last.string("detail")).isEqualTo("test traffic");
      assertThat(last.string("actor")).isEqualTo(ACTOR);
    }
    assertThat(ids(cli("dlq", "list", "--json"))).isEmpty();
    assertThat(cli("dlq", "show", Long.toString(id)).out()).contains("discarded: test traffic by " + ACTOR);
    // A discarded event cannot be replayed.
    assertThat(cli("dlq", "replay", Long.toString(id)).exitCode()).isEqualTo(1);
  }

  @Test
  void discardNeedsAReason() throws Exception {
    long id = deadLetter("message.received", "boom");

    assertThat(cli("dlq", "discard", Long.toString(id)).exitCode()).isEqualTo(2);
    assertThat(cli("dlq", "discard", Long.toString(id), "--reason", " ").exitCode()).isEqualTo(2);
    assertThat(inboxRow(id).string("status")).isEqualTo("dead");
  }

  // ---- events -----------------------------------------------------------------------------------

  @Test
  void eventsListShowsTheInboxNewestFirstWithFilters() throws Exception {
    long dead = deadLetter("message.received", "boom");
    long pending = append("call.completed").inboxId();
    long pending2 = append("message.delivered").inboxId();

    Cli.Result table = cli("events", "list");
    assertThat(table.exitCode()).as("%s", table).isZero();
    assertThat(table.lines()).hasSize(4);
    assertThat(table.lines().get(0)).contains("ID", "RECEIVED", "TYPE", "STATUS", "ATTEMPTS", "EVENT");
    assertThat(table.lines().get(1)).startsWith(pending2 + " ").contains("message.delivered", "pending");
    assertThat(table.lines().get(3)).startsWith(dead + " ").contains("message.received", "dead");

    assertThat(ids(cli("events", "list", "--json"))).containsExactly(pending2, pending, dead);
    assertThat(ids(cli("events", "list", "--json", "--status", "pending"))).containsExactly(pending2, pending);
    assertThat(ids(cli("events", "list", "--json", "--status", "DEAD"))).containsExactly(dead);
    assertThat(ids(cli("events", "list", "--json", "--type", "call.completed"))).containsExactly(pending);
    assertThat(ids(cli("events", "list", "--json", "--since", "5m", "--limit", "2"))).containsExactly(pending2, pending);
    assertThat(ids(cli("events", "list", "--json", "--since", "2099-01-01"))).isEmpty();

    JsonObject first = cli("events", "list", "--json", "--limit", "1").jsonArray().getJsonObject(0);
    assertThat(first.getString("type")).isEqualTo("message.delivered");
    assertThat(first.getString("status")).isEqualTo("pending");
    assertThat(first.getString("scheme")).isEqualTo("openphone");

    Cli.Result bad = cli("events", "list", "--status", "finished");
    assertThat(bad.exitCode()).as("%s", bad).isEqualTo(2);
    assertThat(bad.err()).contains("pending, processing, processed, ignored, dead, discarded");
  }

  @Test
  void eventsShowFindsAnEventByInboxIdByEventIdAndBySourceAndEventId() throws Exception {
    long id = deadLetter("message.received", "boom");
    cli("dlq", "replay", Long.toString(id));
    SqlRow inbox = inboxRow(id);
    String eventId = inbox.string("event_id");
    String body = new String(inbox.bytes("body"), StandardCharsets.UTF_8);

    for (String reference : List.of(Long.toString(id), eventId, "openphone:" + eventId)) {
      Cli.Result shown = cli("events", "show", reference);
      assertThat(shown.exitCode()).as("%s", shown).isZero();
      assertThat(shown.out()).contains("openphone:" + eventId).contains("pending").contains(body)
          .contains("dead letter:").contains("replayed by " + ACTOR)
          .containsSubsequence("received", "processing", "dead_lettered", "replayed");
    }

    JsonObject json = cli("events", "show", eventId, "--json").jsonObject();
    assertThat(json.getLong("id")).isEqualTo(id);
    assertThat(json.getString("body")).isEqualTo(body);
    assertThat(json.getString("status")).isEqualTo("pending");
    assertThat(json.getJsonObject("dead_letter").getString("resolution")).isEqualTo("replayed");
    JsonArray audit = json.getJsonArray("audit");
    assertThat(states(audit)).containsExactly("received", "processing", "dead_lettered", "replayed");
    assertThat(audit.getJsonObject(3).getString("actor")).isEqualTo(ACTOR);
    assertThat(audit.getJsonObject(1).getString("actor")).isEqualTo(OWNER);

    Cli.Result missing = cli("events", "show", "openphone:EVnosuchevent");
    assertThat(missing.exitCode()).as("%s", missing).isEqualTo(1);
    assertThat(missing.err()).contains("no stored event openphone:EVnosuchevent");
  }

  // ---- migrate ----------------------------------------------------------------------------------

  @Test
  void migrateReportsTheSchemaVersion() {
    Cli.Result result = cli("migrate");

    assertThat(result.exitCode()).as("%s", result).isZero();
    JsonObject json = cli("migrate", "--json").jsonObject();
    JsonArray migrations = json.getJsonArray("migrations");
    assertThat(migrations).isNotEmpty();
    assertThat(migrations.getJsonObject(0).getString("version")).isEqualTo("1");
    assertThat(migrations.getJsonObject(0).getString("description")).isEqualTo("inbox");
    String version = migrations.getJsonObject(migrations.size() - 1).getString("version");
    assertThat(json.getString("version")).isEqualTo(version);
    assertThat(result.lines().get(0)).isEqualTo("schema version " + version + " (" + json.getString("store") + ")");
  }

  // ---- next to a running service ----------------------------------------------------------------

  @Test
  void aReplayWhileTheServiceRunsIsProcessedExactlyOnce() throws Exception {
    long id = deadLetter("message.delivered", "OutboundHttpException: 503");
    String eventId = inboxRow(id).string("event_id");
    CliServer.Counting handler = new CliServer.Counting();

    CliServer server = CliServer.start(config, handler.registry());
    try {
      // The service leaves a dead letter alone...
      assertThat(inboxRow(id).string("status")).isEqualTo("dead");

      Cli.Result replay = cli("dlq", "replay", Long.toString(id));
      assertThat(replay.exitCode()).as("%s", replay).isZero();

      // ...and processes it once replayed, within its poll interval.
      Poll.until("event " + id + " processed", WAIT, () -> inboxRow(id).string("status"), "processed"::equals);
      assertThat(handler.calls(eventId)).isEqualTo(1);
    } finally {
      server.close();
    }
    assertThat(handler.calls(eventId)).as("handler calls after the service stopped").isEqualTo(1);
    assertThat(count("SELECT COUNT(*) AS n FROM event_audit WHERE inbox_id = ? AND state = 'processed'", id)).isEqualTo(1);
    assertThat(auditStates(id)).containsExactly("received", "processing", "dead_lettered", "replayed", "processing", "processed");
    assertThat(inboxRow(id).intValue("attempts")).isEqualTo(1);
    assertThat(states(cli("events", "show", Long.toString(id), "--json").jsonObject().getJsonArray("audit")))
        .endsWith("replayed", "processing", "processed");
  }

  @Test
  void aReplayWithNoServiceRunningIsProcessedAtTheNextStart() throws Exception {
    long id = deadLetter("call.completed", "OutboundHttpException: 503");
    String eventId = inboxRow(id).string("event_id");

    Cli.Result replay = cli("dlq", "replay", Long.toString(id));
    assertThat(replay.exitCode()).as("%s", replay).isZero();
    assertThat(inboxRow(id).string("status")).isEqualTo("pending");

    CliServer.Counting handler = new CliServer.Counting();
    CliServer server = CliServer.start(config, handler.registry());
    try {
      Poll.until("event " + id + " processed", WAIT, () -> inboxRow(id).string("status"), "processed"::equals);
    } finally {
      server.close();
    }
    assertThat(handler.calls(eventId)).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) AS n FROM event_audit WHERE inbox_id = ? AND state = 'processed'", id)).isEqualTo(1);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  Cli.Result cli(String... args) {
    return Cli.run(config, args);
  }

  /** A sample event of this type, read by the service's own parser, appended as ingest would. */
  AppendedEvent append(String type) throws Exception {
    Instant now = Instant.now();
    byte[] body = SampleEvents.body(type, WebhookSigner.Scheme.OPENPHONE, now);
    WebhookEvent event = EnvelopeParser.parse(body, "openphone", null, now.toEpochMilli()).event();
    long inboxId = store.append(event).await().inboxId();
    assertThat(inboxId).isPositive();
    return new AppendedEvent(inboxId, event);
  }

  record AppendedEvent(long inboxId, WebhookEvent event) {
  }

  /** Appends, claims and dead-letters an event as a worker whose handler failed would. */
  long deadLetter(String type, String error) throws Exception {
    AppendedEvent appended = append(type);
    List<InboxEvent> claimed = store.claim(OWNER, 30_000, 100).await();
    InboxEvent mine = null;
    List<String> partitions = new ArrayList<>();
    for (InboxEvent event : claimed) {
      partitions.add(event.event().partitionKey());
      if (event.inboxId() == appended.inboxId()) {
        mine = event;
      } else {
        store.abandon(event.inboxId(), OWNER, System.currentTimeMillis()).await();
      }
    }
    assertThat(mine).as("the appended event was claimed").isNotNull();
    InboxEvent dead = mine;
    String stackTrace = stackTraceHere(error);
    store.inTransaction(tx -> InboxTransitions.deadLetter(tx, dead, OWNER, error, stackTrace)).await();
    store.release(OWNER, partitions).await();
    return appended.inboxId();
  }

  private static String stackTraceHere(String error) {
    java.io.StringWriter trace = new java.io.StringWriter();
    new IllegalStateException(error).printStackTrace(new java.io.PrintWriter(trace));
    return trace.toString();
  }

  SqlRow inboxRow(long id) {
    return one("SELECT * FROM inbox_events WHERE id = ?", id);
  }

  SqlRow deadLetterRow(long id) {
    return one("SELECT * FROM dead_letters WHERE inbox_id = ?", id);
  }

  List<SqlRow> audit(long id) {
    return rows("SELECT * FROM event_audit WHERE inbox_id = ? ORDER BY id", id);
  }

  List<String> auditStates(long id) {
    return audit(id).stream().map(row -> row.string("state")).toList();
  }

  long count(String sql, Object... params) {
    return one(sql, params).longValue("n");
  }

  SqlRow one(String sql, Object... params) {
    List<SqlRow> rows = rows(sql, params);
    assertThat(rows).as("rows of %s", sql).hasSize(1);
    return rows.get(0);
  }

  List<SqlRow> rows(String sql, Object... params) {
    return store.inTransaction(tx -> tx.query(sql, params)).await();
  }

  static List<Long> ids(Cli.Result result) {
    assertThat(result.exitCode()).as("%s", result).isZero();
    JsonArray array = result.jsonArray();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      ids.add(array.getJsonObject(i).getLong("id"));
    }
    return ids;
  }

  static List<String> states(JsonArray audit) {
    List<String> states = new ArrayList<>();
    for (int i = 0; i < audit.size(); i++) {
      states.add(audit.getJsonObject(i).getString("state"));
    }
    return states;
  }
}
