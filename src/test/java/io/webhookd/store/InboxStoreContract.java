package io.webhookd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.event.ContentHash;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link InboxStore} adapter must do, specified once. A subclass opens one adapter on
 * real storage; each test here then runs against it. Every call is made from a Vert.x context and
 * its result must come back on that same context; the test thread only waits for the outcome.
 *
 * <p>What the tests read back from the database they read through the port itself
 * ({@link InboxStore#inTransaction} and a {@link Tx}), so the same SQL checks both adapters; only
 * after the store is closed do they fall back on the subclass's direct JDBC connection.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
public abstract class InboxStoreContract {

  protected static final String OWNER = "test-instance";
  protected static final long LEASE = Duration.ofSeconds(30).toMillis();
  protected static final String PARTITION = "conversation:CN1";
  /** A table for "handler effects", made by the tests in the SQL both databases share. */
  protected static final String SCRATCH = "contract_scratch";

  protected Settings.Store settings;
  protected Vertx vertx;
  protected Context context;
  protected InboxStore store;
  private boolean closed;

  /** Opens the adapter under test on empty storage, with {@code OWNER} as its instance id. */
  protected abstract InboxStore openStore(Vertx vertx, Settings.Store settings) throws Exception;

  /** A direct JDBC connection to the storage under test, for checks after the store is closed. */
  protected abstract Connection jdbc() throws SQLException;

  /** The shipped store defaults, read the way the service reads them. */
  @BeforeEach
  void openContractStore(Vertx vertx, @TempDir Path confDir) throws Exception {
    Settings defaults = SettingsLoader.load(Files.writeString(confDir.resolve("empty.yaml"), ""), Map.of());
    this.settings = defaults.store();
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.store = openStore(vertx, settings);
    this.closed = false;
  }

  @AfterEach
  void closeContractStore() throws Exception {
    closeStore();
  }

  /** Closes and waits (once); where close() delivers its result is checked by its own test. */
  protected void closeStore() throws Exception {
    if (!closed) {
      closed = true;
      store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Replaces a closed store by another one, closed after the test. */
  protected void useStore(InboxStore reopened) {
    this.store = reopened;
    this.closed = false;
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  /** Runs {@code call} on {@code on} and checks that its result is delivered on {@code on}. */
  protected static <T> CompletableFuture<T> start(Context on, Supplier<Future<T>> call) {
    CompletableFuture<T> outcome = new CompletableFuture<>();
    on.runOnContext(v -> {
      Future<T> future;
      try {
        future = call.get();
      } catch (RuntimeException e) {
        outcome.completeExceptionally(e);
        return;
      }
      future.onComplete(ar -> {
        if (Vertx.currentContext() != on) {
          outcome.completeExceptionally(new AssertionError(
              "result delivered on " + Vertx.currentContext() + " (" + Thread.currentThread().getName()
                  + "), not on the caller's context"));
        } else if (ar.succeeded()) {
          outcome.complete(ar.result());
        } else {
          outcome.completeExceptionally(ar.cause());
        }
      });
    });
    return outcome;
  }

  protected <T> T call(Supplier<Future<T>> call) throws Exception {
    return await(start(context, call));
  }

  protected static <T> T await(CompletableFuture<T> outcome) throws Exception {
    try {
      return outcome.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AssertionError assertion) {
        throw assertion;
      }
      throw e;
    }
  }

  protected Throwable failure(Supplier<Future<?>> call) throws Exception {
    CompletableFuture<?> outcome = start(context, () -> call.get().<Object>map(x -> x));
    try {
      Object result = outcome.get(20, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + result);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AssertionError assertion) {
        throw assertion;
      }
      return e.getCause();
    }
  }

  /**
   * Asks {@code call} again (paced by a Vert.x timer) until its result satisfies {@code done},
   * failing when that does not happen within {@code within}.
   */
  protected <T> T eventually(Supplier<Future<T>> call, Predicate<T> done, Duration within) throws Exception {
    return await(Poll.eventually(vertx, context, call, done, within));
  }

  /** Rows read through the port, in one transaction. */
  protected List<SqlRow> rows(String sql, Object... params) throws Exception {
    return call(() -> store.inTransaction(tx -> tx.query(sql, params)));
  }

  /** The single row {@code sql} selects. */
  protected SqlRow row(String sql, Object... params) throws Exception {
    List<SqlRow> rows = rows(sql, params);
    assertThat(rows).as(sql).hasSize(1);
    return rows.get(0);
  }

  /** {@code sql} must select a count as {@code n}. */
  protected long count(String sql, Object... params) throws Exception {
    return row(sql, params).longValue("n");
  }

  /** A count read directly over JDBC, e.g. once the store is closed. */
  protected long countDirect(String sql, Object... args) throws SQLException {
    try (Connection connection = jdbc(); PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        statement.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** The audit trail of one event, oldest first. */
  protected List<SqlRow> audit(String eventId) throws Exception {
    return rows("SELECT inbox_id, state, attempt, detail, actor, at FROM event_audit "
        + "WHERE source = ? AND event_id = ? ORDER BY id", WebhookEvent.SOURCE_OPENPHONE, eventId);
  }

  protected List<SqlRow> audit(String eventId, String state) throws Exception {
    return audit(eventId).stream().filter(r -> state.equals(r.string("state"))).toList();
  }

  protected SqlRow inboxRow(long inboxId) throws Exception {
    return row("SELECT id, status, attempts, last_error, first_failed_at, last_failed_at, due_at, lease_owner, "
        + "lease_until FROM inbox_events WHERE id = ?", inboxId);
  }

  /** The event's row after its first attempt ended {@code status}: one attempt, the claim cleared. */
  protected void assertFinishedOnFirstAttempt(long inboxId, String status) throws Exception {
    SqlRow row = inboxRow(inboxId);
    assertThat(row.string("status")).isEqualTo(status);
    assertThat(row.intValue("attempts")).isEqualTo(1);
    assertThat(row.string("lease_owner")).isNull();
    assertThat(row.longValue("lease_until")).isNull();
  }

  /** Marks a claimed event processed, the way processing does: through a transaction. */
  protected Future<Void> complete(InboxEvent claimed, String owner) {
    return store.inTransaction(tx -> InboxTransitions.finish(tx, claimed, owner, InboxStatus.PROCESSED, "done"));
  }

  protected InboxEvent appendAndClaim(String eventId) throws Exception {
    long id = call(() -> store.append(event(eventId))).inboxId();
    List<InboxEvent> claimed = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(claimed).extracting(InboxEvent::inboxId).containsExactly(id);
    return claimed.get(0);
  }

  protected void createScratchTable() throws Exception {
    call(() -> store.inTransaction(tx -> tx.update(
        "CREATE TABLE IF NOT EXISTS " + SCRATCH + " (note_id TEXT PRIMARY KEY, note TEXT NOT NULL)")));
  }

  /** A handler's effect: one row in the scratch table. */
  protected static Future<Integer> effect(Tx tx, String noteId) {
    return tx.update("INSERT INTO " + SCRATCH + " (note_id, note) VALUES (?, ?)", noteId, "effect of " + noteId);
  }

  protected long effects(String noteId) throws Exception {
    return count("SELECT COUNT(*) AS n FROM " + SCRATCH + " WHERE note_id = ?", noteId);
  }

  protected static WebhookEvent event(String eventId) {
    return event(eventId, PARTITION);
  }

  protected static WebhookEvent event(String eventId, String partitionKey) {
    return new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, eventId, "message.received",
        1_642_956_952_557L, partitionKey, 1_700_000_000_000L, "openphone", body(eventId));
  }

  protected static WebhookEvent event(String eventId, byte[] body) {
    return new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, eventId, "message.received",
        1_642_956_952_557L, PARTITION, 1_700_000_000_000L, "openphone", body);
  }

  private static byte[] body(String eventId) {
    return ("{\"id\":\"" + eventId + "\",\"type\":\"message.received\"}").getBytes(StandardCharsets.UTF_8);
  }

  /** A first attempt's outcome when it succeeds: processed; the store records it. */
  protected static Future<FirstAttempt.Outcome> processed() {
    return Future.succeededFuture(new FirstAttempt.Outcome(InboxStatus.PROCESSED, null));
  }

  /** A first attempt: {@code run} processes, {@code failed} records a failure. */
  protected interface Attempt {
    Future<FirstAttempt.Outcome> run(InboxEvent inbox, Tx tx);
  }

  protected interface Recorder {
    Future<?> failed(InboxEvent inbox, Throwable failure, Tx tx);
  }

  protected static FirstAttempt attempt(Attempt run, Recorder failed) {
    return new FirstAttempt() {
      @Override
      public Future<FirstAttempt.Outcome> run(InboxEvent event, Tx tx) {
        return run.run(event, tx);
      }

      @Override
      public Future<?> failed(InboxEvent event, Throwable failure, Tx tx) {
        return failed.failed(event, failure, tx);
      }
    };
  }
  /** A first attempt that writes its effect ({@code noteId}) and processes the event; it is not expected to fail. */
  protected static FirstAttempt processes(String noteId) {
    return attempt((inbox, tx) -> effect(tx, noteId).compose(n -> processed()),
        (inbox, failure, tx) -> Future.failedFuture("not expected"));
  }


  // ---- append -----------------------------------------------------------------------------------

  @Test
  void appendStoresTheEventAndReturnsItsId() throws Exception {
    byte[] body = Fixtures.bytes(Fixtures.LEGACY_V2_MESSAGE_RECEIVED);
    AppendResult result = call(() -> store.append(event("EV1", body)));

    assertThat(result.stored()).isTrue();
    assertThat(result.inboxId()).isPositive();
    assertThat(call(() -> store.status("openphone", "EV1"))).isEqualTo(InboxStatus.PENDING);

    SqlRow row = row("SELECT id, source, event_id, event_type, occurred_at, partition_key, received_at, "
        + "signature_scheme, body, status, attempts FROM inbox_events WHERE event_id = ?", "EV1");
    assertThat(row.longValue("id")).isEqualTo(result.inboxId());
    assertThat(row.string("source")).isEqualTo("openphone");
    assertThat(row.string("event_type")).isEqualTo("message.received");
    assertThat(row.longValue("occurred_at")).isEqualTo(1_642_956_952_557L);
    assertThat(row.string("partition_key")).isEqualTo(PARTITION);
    assertThat(row.longValue("received_at")).isEqualTo(1_700_000_000_000L);
    assertThat(row.string("signature_scheme")).isEqualTo("openphone");
    assertThat(row.bytes("body")).isEqualTo(body);
    assertThat(row.string("status")).isEqualTo("pending");
    assertThat(row.intValue("attempts")).isZero();
  }

  @Test
  void appendAuditsTheEventAsReceived() throws Exception {
    long id = call(() -> store.append(event("EV-received"))).inboxId();

    List<SqlRow> trail = audit("EV-received");
    assertThat(trail).hasSize(1);
    SqlRow received = trail.get(0);
    assertThat(received.string("state")).isEqualTo("received");
    assertThat(received.longValue("inbox_id")).isEqualTo(id);
    assertThat(received.intValue("attempt")).isZero();
    assertThat(received.string("detail")).as("the signature scheme").isEqualTo("openphone");
    assertThat(received.string("actor")).isEqualTo(OWNER);
    assertThat(received.longValue("at")).as("when it was received").isEqualTo(1_700_000_000_000L);
  }

  @Test
  void statusOfAnUnknownEventIsNull() throws Exception {
    assertThat(call(() -> store.status("openphone", "EV-unknown"))).isNull();
    call(() -> store.append(event("EV-known")));
    assertThat(call(() -> store.status("openphone", "EV-unknown"))).isNull();
    assertThat(call(() -> store.status("elsewhere", "EV-known"))).as("another source").isNull();
  }

  @Test
  void secondAppendOfTheSameEventIsADuplicateAndStoresNothing() throws Exception {
    AppendResult first = call(() -> store.append(event("EV-dup")));
    AppendResult second = call(() -> store.append(event("EV-dup", "{\"other\":true}".getBytes(StandardCharsets.UTF_8))));

    assertThat(first.stored()).isTrue();
    assertThat(second).isEqualTo(AppendResult.DUPLICATE);
    assertThat(second.stored()).isFalse();
    assertThat(count("SELECT COUNT(*) AS n FROM inbox_events WHERE source = ? AND event_id = ?", "openphone", "EV-dup"))
        .isEqualTo(1);
    assertThat(count("SELECT COUNT(*) AS n FROM inbox_events WHERE body = ?", body("EV-dup"))).isEqualTo(1);
    assertThat(audit("EV-dup", "received")).as("received once").hasSize(1);
  }

  @Test
  void sameEventIdFromAnotherSourceIsADifferentEvent() throws Exception {
    AppendResult openphone = call(() -> store.append(event("EV-x")));
    WebhookEvent other = new WebhookEvent("elsewhere", "EV-x", "t", 0, "p", 0, "seed", new byte[] {1});
    AppendResult elsewhere = call(() -> store.append(other));
    assertThat(openphone.stored()).isTrue();
    assertThat(elsewhere.stored()).isTrue();
    assertThat(elsewhere.inboxId()).isNotEqualTo(openphone.inboxId());
  }

  /**
   * Group commit under concurrency: 500 appends in flight at once from four contexts, each id
   * twice. Each id is stored exactly once and audited as received exactly once.
   */
  @Test
  void concurrentAppendsStoreAndAuditEachEventExactlyOnce() throws Exception {
    int distinct = 250;
    List<Context> callers = List.of(context, vertx.getOrCreateContext(), vertx.getOrCreateContext(),
        vertx.getOrCreateContext());
    List<CompletableFuture<AppendResult>> outcomes = new ArrayList<>();
    for (int copy = 0; copy < 2; copy++) {
      for (int i = 0; i < distinct; i++) {
        String id = "EV-concurrent-" + i;
        Context caller = callers.get((i + copy) % callers.size());
        outcomes.add(start(caller, () -> store.append(event(id, "conversation:C" + (id.hashCode() % 7)))));
      }
    }
    CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    List<AppendResult> results = outcomes.stream().map(CompletableFuture::join).toList();
    assertThat(results).hasSize(2 * distinct);
    List<AppendResult> stored = results.stream().filter(AppendResult::stored).toList();
    assertThat(stored).hasSize(distinct);
    Set<Long> storedIds = new HashSet<>();
    stored.forEach(r -> storedIds.add(r.inboxId()));
    assertThat(storedIds).hasSize(distinct);
    assertThat(results.stream().filter(r -> !r.stored())).allMatch(r -> r.equals(AppendResult.DUPLICATE));
    for (int i = 0; i < distinct; i++) {
      // For each id exactly one of its two appends stored it.
      assertThat(outcomes.get(i).join().stored() ^ outcomes.get(distinct + i).join().stored())
          .as("EV-concurrent-%d stored once", i).isTrue();
    }
    assertThat(count("SELECT COUNT(*) AS n FROM inbox_events")).isEqualTo(distinct);
    assertThat(count("SELECT COUNT(DISTINCT event_id) AS n FROM inbox_events")).isEqualTo(distinct);

    List<SqlRow> received = rows("SELECT inbox_id, event_id FROM event_audit WHERE state = 'received'");
    assertThat(received).as("one received row per stored event").hasSize(distinct);
    Set<Long> auditedIds = new HashSet<>();
    received.forEach(r -> auditedIds.add(r.longValue("inbox_id")));
    assertThat(auditedIds).isEqualTo(storedIds);
    // And each audit row names the event its inbox row holds.
    assertThat(count("SELECT COUNT(*) AS n FROM event_audit a JOIN inbox_events e ON e.id = a.inbox_id "
        + "WHERE a.state = 'received' AND a.event_id = e.event_id AND a.source = e.source")).isEqualTo(distinct);
  }

  // ---- duplicates and quarantine ---------------------------------------------------------------

  @Test
  void recordDuplicateAuditsTheDuplicateAgainstTheOriginal() throws Exception {
    long id = call(() -> store.append(event("EV-again"))).inboxId();
    context.runOnContext(v -> store.recordDuplicate(event("EV-again"), "caffeine"));

    List<SqlRow> duplicates = eventually(() -> store.inTransaction(tx -> tx.query(
            "SELECT inbox_id, attempt, detail, actor FROM event_audit WHERE event_id = ? AND state = 'duplicate'",
            "EV-again")),
        r -> !r.isEmpty(), Duration.ofSeconds(10));
    assertThat(duplicates).hasSize(1);
    SqlRow duplicate = duplicates.get(0);
    assertThat(duplicate.longValue("inbox_id")).as("linked to the original").isEqualTo(id);
    assertThat(duplicate.intValue("attempt")).isZero();
    assertThat(duplicate.string("detail")).isEqualTo("detected by caffeine");
    assertThat(duplicate.string("actor")).isEqualTo(OWNER);
    assertThat(count("SELECT COUNT(*) AS n FROM inbox_events WHERE event_id = ?", "EV-again")).isEqualTo(1);
  }

  @Test
  void recordDuplicateOfAnEventNotStoredHereIsAuditedWithoutAnInboxId() throws Exception {
    context.runOnContext(v -> store.recordDuplicate(event("EV-elsewhere"), "redis"));

    List<SqlRow> duplicates = eventually(() -> store.inTransaction(tx -> tx.query(
            "SELECT inbox_id, detail FROM event_audit WHERE event_id = ? AND state = 'duplicate'", "EV-elsewhere")),
        r -> !r.isEmpty(), Duration.ofSeconds(10));
    assertThat(duplicates).hasSize(1);
    assertThat(duplicates.get(0).longValue("inbox_id")).isNull();
    assertThat(duplicates.get(0).string("detail")).isEqualTo("detected by redis");
    assertThat(call(() -> store.status("openphone", "EV-elsewhere"))).isNull();
  }

  @Test
  void quarantineKeepsOneRowPerDistinctBody() throws Exception {
    byte[] body = "not json at all".getBytes(StandardCharsets.UTF_8);
    String hash = ContentHash.of(body);
    call(() -> store.quarantine(new RejectedRequest(hash, "invalid_json", "openphone", "text/plain", 1000L, body)));
    call(() -> store.quarantine(new RejectedRequest(hash, "invalid_json", "openphone", "text/plain", 2000L, body)));
    byte[] other = "[]".getBytes(StandardCharsets.UTF_8);
    call(() -> store.quarantine(
        new RejectedRequest(ContentHash.of(other), "invalid_json", "seed", null, 3000L, other)));

    assertThat(count("SELECT COUNT(*) AS n FROM rejected_requests WHERE body_sha256 = ?", hash)).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) AS n FROM rejected_requests")).isEqualTo(2);
    SqlRow row = row("SELECT reason, signature_scheme, content_type, first_seen_at, last_seen_at, times_seen, body "
        + "FROM rejected_requests WHERE body_sha256 = ?", hash);
    assertThat(row.string("reason")).isEqualTo("invalid_json");
    assertThat(row.string("signature_scheme")).isEqualTo("openphone");
    assertThat(row.string("content_type")).isEqualTo("text/plain");
    assertThat(row.longValue("first_seen_at")).isEqualTo(1000L);
    assertThat(row.longValue("last_seen_at")).isEqualTo(2000L);
    assertThat(row.longValue("times_seen")).isEqualTo(2);
    assertThat(row.bytes("body")).isEqualTo(body);
  }

  // ---- claim / abandon / renew -----------------------------------------------------------------

  @Test
  void claimedEventOnceCompletedIsNeverClaimedAgain() throws Exception {
    byte[] body = Fixtures.bytes(Fixtures.V2026_MESSAGE_RECEIVED);
    long id = call(() -> store.append(event("EV-life", body))).inboxId();

    List<InboxEvent> claimed = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(claimed).extracting(InboxEvent::inboxId).containsExactly(id);
    InboxEvent inbox = claimed.get(0);
    assertThat(inbox.attempt()).isEqualTo(1);
    assertThat(inbox.event().eventId()).isEqualTo("EV-life");
    assertThat(inbox.event().source()).isEqualTo("openphone");
    assertThat(inbox.event().type()).isEqualTo("message.received");
    assertThat(inbox.event().occurredAt()).isEqualTo(1_642_956_952_557L);
    assertThat(inbox.event().partitionKey()).isEqualTo(PARTITION);
    assertThat(inbox.event().receivedAt()).isEqualTo(1_700_000_000_000L);
    assertThat(inbox.event().scheme()).isEqualTo("openphone");
    assertThat(inbox.event().body()).isEqualTo(body);
    assertThat(call(() -> store.status("openphone", "EV-life"))).isEqualTo(InboxStatus.PROCESSING);

    // While it is claimed, nobody else gets it.
    assertThat(call(() -> store.claim("someone-else", LEASE, 10))).isEmpty();

    call(() -> complete(inbox, OWNER));
    assertThat(call(() -> store.status("openphone", "EV-life"))).isEqualTo(InboxStatus.PROCESSED);

    // Already processed: not claimable, and completing again is refused as a lost claim.
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).isEmpty();
    assertThat(failure(() -> complete(inbox, OWNER))).isInstanceOf(ClaimLostException.class);
    assertThat(call(() -> store.status("openphone", "EV-life"))).isEqualTo(InboxStatus.PROCESSED);
  }

  @Test
  void claimSetsTheLeaseAndAuditsProcessing() throws Exception {
    long before = System.currentTimeMillis();
    InboxEvent claimed = appendAndClaim("EV-claim-audit");
    long after = System.currentTimeMillis();

    SqlRow row = inboxRow(claimed.inboxId());
    assertThat(row.string("status")).isEqualTo("processing");
    assertThat(row.string("lease_owner")).isEqualTo(OWNER);
    assertThat(row.longValue("lease_until")).isBetween(before + LEASE, after + LEASE);
    assertThat(row.intValue("attempts")).isEqualTo(1);

    List<SqlRow> processing = audit("EV-claim-audit", "processing");
    assertThat(processing).hasSize(1);
    assertThat(processing.get(0).longValue("inbox_id")).isEqualTo(claimed.inboxId());
    assertThat(processing.get(0).intValue("attempt")).isEqualTo(1);
    assertThat(processing.get(0).string("actor")).isEqualTo(OWNER);
    assertThat(processing.get(0).longValue("at")).isBetween(before, after);
    assertThat(audit("EV-claim-audit")).extracting(r -> r.string("state")).containsExactly("received", "processing");
  }

  @Test
  void appendClaimedIsClaimedByTheOwnerOrElsePendingForAnyClaim() throws Exception {
    long before = System.currentTimeMillis();
    AppendResult result = call(() -> store.appendClaimed(event("EV-claimed-append"), OWNER, LEASE));
    long after = System.currentTimeMillis();
    assertThat(result.stored()).isTrue();
    InboxEvent inbox;
    if (result.claimed()) {
      SqlRow row = inboxRow(result.inboxId());
      assertThat(row.string("status")).isEqualTo("processing");
      assertThat(row.string("lease_owner")).isEqualTo(OWNER);
      assertThat(row.longValue("lease_until")).isBetween(before + LEASE, after + LEASE);
      assertThat(row.intValue("attempts")).isEqualTo(1);
      assertThat(audit("EV-claimed-append")).extracting(r -> r.string("state"))
          .containsExactly("received", "processing");
      assertThat(audit("EV-claimed-append", "processing").get(0).string("actor")).isEqualTo(OWNER);
      // Claimed already: no claim returns it while its lease holds, not even its owner's.
      assertThat(call(() -> store.claim("someone-else", LEASE, 10))).isEmpty();
      assertThat(call(() -> store.claim(OWNER, LEASE, 10))).isEmpty();
      inbox = new InboxEvent(result.inboxId(), 1, event("EV-claimed-append"));
    } else {
      assertThat(inboxRow(result.inboxId()).string("status")).isEqualTo("pending");
      List<InboxEvent> claimed = call(() -> store.claim(OWNER, LEASE, 10));
      assertThat(claimed).extracting(InboxEvent::inboxId).containsExactly(result.inboxId());
      inbox = claimed.get(0);
    }
    call(() -> complete(inbox, OWNER));
    assertThat(call(() -> store.status("openphone", "EV-claimed-append"))).isEqualTo(InboxStatus.PROCESSED);
    assertThat(call(() -> store.appendClaimed(event("EV-claimed-append"), OWNER, LEASE)))
        .isEqualTo(AppendResult.DUPLICATE);
  }

  /** A first attempt that is given a {@link Tx} writes its effects, and the store its outcome, in the append's commit. */
  @Test
  void aFirstAttemptRunsInTheCommitThatStoresTheEvent() throws Exception {
    createScratchTable();
    AppendResult result = call(() -> store.appendClaimed(event("EV-first"), OWNER, LEASE, processes("EV-first")));

    assertThat(result.attempted()).isTrue();
    assertThat(call(() -> store.status("openphone", "EV-first"))).isEqualTo(InboxStatus.PROCESSED);
    assertThat(effects("EV-first")).isEqualTo(1);
    List<SqlRow> trail = audit("EV-first");
    assertThat(trail).extracting(r -> r.string("state")).containsExactly("received", "processing", "processed");
    assertThat(trail).extracting(r -> r.longValue("inbox_id")).containsOnly(result.inboxId());
    assertThat(trail).extracting(r -> r.intValue("attempt")).containsExactly(0, 1, 1);
    assertThat(trail).extracting(r -> r.string("actor")).containsOnly(OWNER);
    assertThat(trail).extracting(r -> r.string("detail")).containsExactly("openphone", null, null);
    assertThat(trail.get(0).longValue("at")).as("received when the sender delivered it").isEqualTo(1_700_000_000_000L);
    assertThat(trail.get(2).longValue("at")).isGreaterThanOrEqualTo(trail.get(1).longValue("at"))
        .isGreaterThan(1_700_000_000_000L);
  }

  /** The store records a first attempt's outcome as a worker's attempt records it: status, claim cleared, audit entry. */
  @Test
  void aFirstAttemptsOutcomeIsRecordedByTheStore() throws Exception {
    createScratchTable();
    FirstAttempt ignores = attempt((inbox, tx) -> effect(tx, "EV-ignored").map(
        n -> new FirstAttempt.Outcome(InboxStatus.IGNORED, "no handler for this type")),
        (inbox, failure, tx) -> Future.failedFuture("not expected"));
    AppendResult result = call(() -> store.appendClaimed(event("EV-ignored"), OWNER, LEASE, ignores));

    assertThat(result.attempted()).isTrue();
    assertFinishedOnFirstAttempt(result.inboxId(), "ignored");
    assertThat(effects("EV-ignored")).isEqualTo(1);
    SqlRow outcome = audit("EV-ignored").get(2);
    assertThat(outcome.string("state")).isEqualTo("ignored");
    assertThat(outcome.string("detail")).isEqualTo("no handler for this type");
    assertThat(outcome.intValue("attempt")).isEqualTo(1);
    assertThat(outcome.string("actor")).isEqualTo(OWNER);
  }

  /** A duplicate that reaches the store gets no attempt: nothing of it is written. */
  @Test
  void aDuplicateGetsNoFirstAttempt() throws Exception {
    createScratchTable();
    call(() -> store.append(event("EV-twice")));
    AppendResult again = call(() -> store.appendClaimed(event("EV-twice"), OWNER, LEASE, processes("EV-twice")));

    assertThat(again).isEqualTo(AppendResult.DUPLICATE);
    assertThat(effects("EV-twice")).isZero();
    assertThat(audit("EV-twice")).extracting(r -> r.string("state")).containsExactly("received");
  }

  @Test
  void onlyTheClaimOwnerCanComplete() throws Exception {
    InboxEvent claimed = appendAndClaim("EV-owner");
    assertThat(failure(() -> complete(claimed, "another-instance"))).isInstanceOf(ClaimLostException.class);
    assertThat(call(() -> store.status("openphone", "EV-owner"))).isEqualTo(InboxStatus.PROCESSING);
    call(() -> complete(claimed, OWNER));
    assertThat(call(() -> store.status("openphone", "EV-owner"))).isEqualTo(InboxStatus.PROCESSED);
  }

  @Test
  void claimReturnsDueEventsOldestFirstUpToTheLimit() throws Exception {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String eventId = "EV-order-" + i;
      ids.add(call(() -> store.append(event(eventId))).inboxId());
    }
    assertThat(ids).isSorted();

    List<InboxEvent> first = call(() -> store.claim(OWNER, LEASE, 3));
    List<InboxEvent> rest = call(() -> store.claim(OWNER, LEASE, 3));
    List<InboxEvent> none = call(() -> store.claim(OWNER, LEASE, 3));

    assertThat(first).extracting(InboxEvent::inboxId).containsExactlyElementsOf(ids.subList(0, 3));
    assertThat(first).extracting(e -> e.event().eventId()).containsExactly("EV-order-0", "EV-order-1", "EV-order-2");
    assertThat(rest).extracting(InboxEvent::inboxId).containsExactlyElementsOf(ids.subList(3, 5));
    assertThat(none).isEmpty();
  }

  @Test
  void abandonedEventIsPendingAgainAndClaimedOnlyOnceDue() throws Exception {
    long later = call(() -> store.append(event("EV-later"))).inboxId();
    long now = call(() -> store.append(event("EV-now"))).inboxId();
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).hasSize(2);

    long inAnHour = System.currentTimeMillis() + Duration.ofHours(1).toMillis();
    call(() -> store.abandon(later, OWNER, inAnHour));
    call(() -> store.abandon(now, OWNER, System.currentTimeMillis() - 1));
    assertThat(call(() -> store.status("openphone", "EV-later"))).isEqualTo(InboxStatus.PENDING);
    assertThat(call(() -> store.status("openphone", "EV-now"))).isEqualTo(InboxStatus.PENDING);
    SqlRow abandoned = inboxRow(later);
    assertThat(abandoned.longValue("due_at")).isEqualTo(inAnHour);
    assertThat(abandoned.string("lease_owner")).isNull();
    assertThat(abandoned.longValue("lease_until")).isNull();

    List<InboxEvent> again = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(again).extracting(InboxEvent::inboxId).as("only the event already due").containsExactly(now);
    assertThat(again.get(0).attempt()).as("an abandoned claim does not count as an attempt").isEqualTo(1);
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).as("the other is not due for an hour").isEmpty();
  }

  @Test
  void abandonByAnotherOwnerChangesNothing() throws Exception {
    InboxEvent claimed = appendAndClaim("EV-kept");
    call(() -> store.abandon(claimed.inboxId(), "another-instance", 0));
    assertThat(call(() -> store.status("openphone", "EV-kept"))).isEqualTo(InboxStatus.PROCESSING);
    assertThat(inboxRow(claimed.inboxId()).string("lease_owner")).isEqualTo(OWNER);
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).isEmpty();
  }

  /**
   * The port's contract: "processing with an expired lease" is due again. A lease that ended a
   * second ago stands in for an instance that stalled past its lease.
   */
  @Test
  void expiredClaimIsTakenOverByAnotherOwner() throws Exception {
    long id = call(() -> store.append(event("EV-stalled"))).inboxId();
    List<InboxEvent> stalled = call(() -> store.claim("stalled-instance", -1_000, 10));
    assertThat(stalled).hasSize(1);

    List<InboxEvent> takenOver = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(takenOver).extracting(InboxEvent::inboxId).containsExactly(id);
    assertThat(takenOver.get(0).attempt()).isEqualTo(2);
    assertThat(inboxRow(id).string("lease_owner")).isEqualTo(OWNER);
    assertThat(failure(() -> complete(stalled.get(0), "stalled-instance"))).as("the old claim is void")
        .isInstanceOf(ClaimLostException.class);
    call(() -> complete(takenOver.get(0), OWNER));
    assertThat(call(() -> store.status("openphone", "EV-stalled"))).isEqualTo(InboxStatus.PROCESSED);
  }

  /**
   * A claim whose lease has already run out (an instance that renews just in time is the same
   * thing, only slower) is not claimable by another owner once renewed.
   */
  @Test
  void renewExtendsTheLeaseSoTheEventIsNotTakenOver() throws Exception {
    long id = call(() -> store.append(event("EV-renewed"))).inboxId();
    assertThat(call(() -> store.claim(OWNER, -1_000, 10))).hasSize(1);
    long before = System.currentTimeMillis();
    call(() -> store.renew(OWNER, LEASE));
    long after = System.currentTimeMillis();

    assertThat(inboxRow(id).longValue("lease_until")).isBetween(before + LEASE, after + LEASE);
    assertThat(call(() -> store.claim("another-instance", LEASE, 10))).isEmpty();
    assertThat(inboxRow(id).string("lease_owner")).isEqualTo(OWNER);
    assertThat(inboxRow(id).intValue("attempts")).as("not claimed again").isEqualTo(1);
  }

  @Test
  void renewLeavesOtherOwnersClaimsAlone() throws Exception {
    call(() -> store.append(event("EV-not-mine")));
    assertThat(call(() -> store.claim("stalled-instance", -1_000, 10))).hasSize(1);
    call(() -> store.renew(OWNER, LEASE));
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).as("still expired, so taken over").hasSize(1);
  }

  @Test
  void afterReleaseAnotherOwnerClaimsThePartitionsNextEvent() throws Exception {
    InboxEvent first = appendAndClaim("EV-release-1");
    call(() -> complete(first, OWNER));
    call(() -> store.release(OWNER, List.of(PARTITION)));
    long next = call(() -> store.append(event("EV-release-2"))).inboxId();

    assertThat(call(() -> store.claim("another-instance", LEASE, 10)))
        .extracting(InboxEvent::inboxId).containsExactly(next);
  }

  // ---- transactions and transitions ------------------------------------------------------------

  @Test
  void inTransactionCommitsOnSuccess() throws Exception {
    createScratchTable();
    String result = call(() -> store.inTransaction(tx -> effect(tx, "committed-1")
        .compose(n -> effect(tx, "committed-2"))
        .map(n -> "the work's result")));

    assertThat(result).isEqualTo("the work's result");
    assertThat(effects("committed-1")).isEqualTo(1);
    assertThat(effects("committed-2")).isEqualTo(1);
  }

  @Test
  void inTransactionRollsBackOnFailureAndReturnsTheFailure() throws Exception {
    createScratchTable();
    IllegalStateException handlerFailure = new IllegalStateException("the handler failed");
    Throwable failure = failure(() -> store.inTransaction(tx -> effect(tx, "undone-1")
        .compose(n -> effect(tx, "undone-2"))
        .compose(n -> Future.failedFuture(handlerFailure))));

    assertThat(failure).isSameAs(handlerFailure);
    assertThat(effects("undone-1")).isZero();
    assertThat(effects("undone-2")).isZero();
  }

  @Test
  void aFailedTransactionIsUndoneAloneAndItsNeighboursCommit() throws Exception {
    CompletableFuture<AppendResult> before = start(context, () -> store.append(event("EV-neighbour-1")));
    CompletableFuture<Object> failing = start(context, () -> store.inTransaction(tx -> tx.update(
            "INSERT INTO rejected_requests (body_sha256, reason, first_seen_at, last_seen_at, times_seen, body) "
                + "VALUES (?, 'test', 0, 0, 1, ?)", "written-then-undone", new byte[] {1})
        .compose(rows -> Future.failedFuture(new IllegalStateException("the handler failed")))));
    CompletableFuture<AppendResult> after = start(context, () -> store.append(event("EV-neighbour-2")));

    assertThat(await(before).stored()).isTrue();
    assertThat(await(after).stored()).isTrue();
    try {
      failing.get(20, TimeUnit.SECONDS);
      throw new AssertionError("the transaction should have failed");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessage("the handler failed");
    }
    assertThat(count("SELECT COUNT(*) AS n FROM rejected_requests WHERE body_sha256 = 'written-then-undone'")).isZero();
    assertThat(count("SELECT COUNT(*) AS n FROM inbox_events")).isEqualTo(2);
  }

  /**
   * Transactions asked for at once, as workers ask for them, which an adapter may commit together:
   * each one still commits or fails on its own. A handler's failure and a lost claim undo only their
   * own transaction's effects, and every other one commits with its event finished.
   */
  @Test
  void transactionsAskedForAtOnceEachCommitOrFailAlone() throws Exception {
    createScratchTable();
    int total = 24;
    int failing = 7;
    int lost = 15;
    List<InboxEvent> claimed = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      int n = i;
      call(() -> store.append(event("EV-together-" + n, "conversation:T" + n)));
      claimed.addAll(call(() -> store.claim(OWNER, LEASE, 1)));
    }
    assertThat(claimed).hasSize(total);
    IllegalStateException handlerFailure = new IllegalStateException("the handler failed");

    List<CompletableFuture<String>> outcomes = new ArrayList<>();
    CompletableFuture<Void> asked = new CompletableFuture<>();
    context.runOnContext(v -> {
      for (int i = 0; i < total; i++) {
        InboxEvent event = claimed.get(i);
        String note = "together-" + i;
        String finisher = i == lost ? "intruder" : OWNER;
        boolean fails = i == failing;
        CompletableFuture<String> outcome = new CompletableFuture<>();
        outcomes.add(outcome);
        store.inTransaction(tx -> effect(tx, note)
                .compose(n -> fails ? Future.<Void>failedFuture(handlerFailure)
                    : InboxTransitions.finish(tx, event, finisher, InboxStatus.PROCESSED, "done"))
                .map(done -> note))
            .onComplete(ar -> {
              if (ar.succeeded()) {
                outcome.complete(ar.result());
              } else {
                outcome.completeExceptionally(ar.cause());
              }
            });
      }
      asked.complete(null);
    });
    asked.get(20, TimeUnit.SECONDS);
    CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).handle((v, e) -> null).get(30, TimeUnit.SECONDS);

    for (int i = 0; i < total; i++) {
      String note = "together-" + i;
      if (i == failing || i == lost) {
        Throwable failure = assertThrows(ExecutionException.class, outcomes.get(i)::get).getCause();
        assertThat(failure).isInstanceOf(i == failing ? IllegalStateException.class : ClaimLostException.class);
        assertThat(effects(note)).as("effects of failed transaction %d", i).isZero();
        assertThat(inboxRow(claimed.get(i).inboxId()).string("status")).isEqualTo("processing");
      } else {
        assertThat(outcomes.get(i).get()).isEqualTo(note);
        assertThat(effects(note)).as("effects of transaction %d", i).isEqualTo(1);
        assertThat(inboxRow(claimed.get(i).inboxId()).string("status")).isEqualTo("processed");
      }
    }
    assertThat(count("SELECT COUNT(*) AS n FROM event_audit WHERE state = 'processed'")).isEqualTo(total - 2);
  }

  @Test
  void finishMarksProcessedWithItsEffectsAndAudits() throws Exception {
    createScratchTable();
    InboxEvent claimed = appendAndClaim("EV-finish");
    long before = System.currentTimeMillis();
    call(() -> store.inTransaction(tx -> effect(tx, "EV-finish")
        .compose(n -> InboxTransitions.finish(tx, claimed, OWNER, InboxStatus.PROCESSED, "crm note created"))));
    long after = System.currentTimeMillis();

    assertThat(call(() -> store.status("openphone", "EV-finish"))).isEqualTo(InboxStatus.PROCESSED);
    assertThat(effects("EV-finish")).isEqualTo(1);
    SqlRow row = inboxRow(claimed.inboxId());
    assertThat(row.string("lease_owner")).isNull();
    assertThat(row.longValue("lease_until")).isNull();
    List<SqlRow> processed = audit("EV-finish", "processed");
    assertThat(processed).hasSize(1);
    assertThat(processed.get(0).longValue("inbox_id")).isEqualTo(claimed.inboxId());
    assertThat(processed.get(0).string("detail")).isEqualTo("crm note created");
    assertThat(processed.get(0).string("actor")).isEqualTo(OWNER);
    assertThat(processed.get(0).intValue("attempt")).isEqualTo(1);
    assertThat(processed.get(0).longValue("at")).isBetween(before, after);
    assertThat(audit("EV-finish")).extracting(r -> r.string("state"))
        .containsExactly("received", "processing", "processed");
  }

  @Test
  void finishAsIgnoredMarksIgnored() throws Exception {
    InboxEvent claimed = appendAndClaim("EV-ignored");
    call(() -> store.inTransaction(tx ->
        InboxTransitions.finish(tx, claimed, OWNER, InboxStatus.IGNORED, "no handler for message.received")));

    assertThat(call(() -> store.status("openphone", "EV-ignored"))).isEqualTo(InboxStatus.IGNORED);
    List<SqlRow> ignored = audit("EV-ignored", "ignored");
    assertThat(ignored).hasSize(1);
    assertThat(ignored.get(0).string("detail")).isEqualTo("no handler for message.received");
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).isEmpty();
  }

  @Test
  void retryLaterMakesTheEventPendingUntilDueAndKeepsTheFailure() throws Exception {
    InboxEvent claimed = appendAndClaim("EV-retry");
    long dueAt = System.currentTimeMillis() + Duration.ofHours(1).toMillis();
    long before = System.currentTimeMillis();
    call(() -> store.inTransaction(tx -> InboxTransitions.retryLater(tx, claimed, OWNER, dueAt, "CRM answered 503")));
    long after = System.currentTimeMillis();

    assertThat(call(() -> store.status("openphone", "EV-retry"))).isEqualTo(InboxStatus.PENDING);
    SqlRow row = inboxRow(claimed.inboxId());
    assertThat(row.longValue("due_at")).isEqualTo(dueAt);
    assertThat(row.string("last_error")).isEqualTo("CRM answered 503");
    assertThat(row.longValue("first_failed_at")).isBetween(before, after);
    assertThat(row.longValue("last_failed_at")).isEqualTo(row.longValue("first_failed_at"));
    assertThat(row.string("lease_owner")).isNull();
    assertThat(row.longValue("lease_until")).isNull();
    List<SqlRow> retry = audit("EV-retry", "retry_scheduled");
    assertThat(retry).hasSize(1);
    assertThat(retry.get(0).string("detail")).isEqualTo("CRM answered 503 (due " + Instant.ofEpochMilli(dueAt) + ")");
    assertThat(retry.get(0).string("actor")).isEqualTo(OWNER);
    assertThat(retry.get(0).intValue("attempt")).isEqualTo(1);
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).as("not due for an hour").isEmpty();
  }

  @Test
  void deadLetterAfterARetryKeepsTheFailureHistory() throws Exception {
    InboxEvent first = appendAndClaim("EV-dead");
    call(() -> store.inTransaction(tx ->
        InboxTransitions.retryLater(tx, first, OWNER, System.currentTimeMillis() - 1, "timeout")));
    long firstFailedAt = inboxRow(first.inboxId()).longValue("first_failed_at");

    List<InboxEvent> again = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(again).extracting(InboxEvent::inboxId).containsExactly(first.inboxId());
    InboxEvent second = again.get(0);
    assertThat(second.attempt()).isEqualTo(2);
    long before = System.currentTimeMillis();
    call(() -> store.inTransaction(tx ->
        InboxTransitions.deadLetter(tx, second, OWNER, "CRM rejected the note", "java.lang.Exception: at Crm.call")));
    long after = System.currentTimeMillis();

    assertThat(call(() -> store.status("openphone", "EV-dead"))).isEqualTo(InboxStatus.DEAD);
    SqlRow row = inboxRow(second.inboxId());
    assertThat(row.string("last_error")).isEqualTo("CRM rejected the note");
    assertThat(row.longValue("first_failed_at")).isEqualTo(firstFailedAt);
    assertThat(row.longValue("last_failed_at")).isBetween(before, after);
    assertThat(row.string("lease_owner")).isNull();

    SqlRow dead = row("SELECT inbox_id, source, event_id, event_type, error, stack_trace, attempts, first_failed_at, "
        + "last_failed_at, dead_at, resolved_at FROM dead_letters WHERE inbox_id = ?", second.inboxId());
    assertThat(dead.string("source")).isEqualTo("openphone");
    assertThat(dead.string("event_id")).isEqualTo("EV-dead");
    assertThat(dead.string("event_type")).isEqualTo("message.received");
    assertThat(dead.string("error")).isEqualTo("CRM rejected the note");
    assertThat(dead.string("stack_trace")).isEqualTo("java.lang.Exception: at Crm.call");
    assertThat(dead.intValue("attempts")).isEqualTo(2);
    assertThat(dead.longValue("first_failed_at")).isEqualTo(firstFailedAt);
    assertThat(dead.longValue("last_failed_at")).isEqualTo(row.longValue("last_failed_at"));
    assertThat(dead.longValue("dead_at")).isBetween(before, after);
    assertThat(dead.longValue("resolved_at")).isNull();

    List<SqlRow> lettered = audit("EV-dead", "dead_lettered");
    assertThat(lettered).hasSize(1);
    assertThat(lettered.get(0).string("detail")).isEqualTo("CRM rejected the note");
    assertThat(lettered.get(0).intValue("attempt")).isEqualTo(2);
    assertThat(lettered.get(0).string("actor")).isEqualTo(OWNER);
    assertThat(audit("EV-dead")).extracting(r -> r.string("state"))
        .containsExactly("received", "processing", "retry_scheduled", "processing", "dead_lettered");
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).as("a dead event is not claimed").isEmpty();
  }

  @Test
  void deadLetterOnTheFirstAttemptRecordsOneFailureTime() throws Exception {
    InboxEvent claimed = appendAndClaim("EV-dead-at-once");
    call(() -> store.inTransaction(tx -> InboxTransitions.deadLetter(tx, claimed, OWNER, "invalid payload", null)));

    SqlRow dead = row("SELECT error, stack_trace, attempts, first_failed_at, last_failed_at, dead_at "
        + "FROM dead_letters WHERE inbox_id = ?", claimed.inboxId());
    assertThat(dead.string("error")).isEqualTo("invalid payload");
    assertThat(dead.string("stack_trace")).isNull();
    assertThat(dead.intValue("attempts")).isEqualTo(1);
    assertThat(dead.longValue("first_failed_at")).isEqualTo(dead.longValue("last_failed_at"));
    assertThat(dead.longValue("dead_at")).isEqualTo(dead.longValue("last_failed_at"));
    assertThat(call(() -> store.status("openphone", "EV-dead-at-once"))).isEqualTo(InboxStatus.DEAD);
  }

  @Test
  void finishByAnOwnerWithoutTheClaimFailsAndRollsBackTheHandlersEffects() throws Exception {
    createScratchTable();
    InboxEvent claimed = appendAndClaim("EV-lost-finish");

    Throwable failure = failure(() -> store.inTransaction(tx -> effect(tx, "EV-lost-finish")
        .compose(n -> InboxTransitions.finish(tx, claimed, "intruder", InboxStatus.PROCESSED, "done"))));

    assertThat(failure).isInstanceOf(ClaimLostException.class);
    assertThat(effects("EV-lost-finish")).as("the handler's effect is rolled back").isZero();
    assertThat(call(() -> store.status("openphone", "EV-lost-finish"))).isEqualTo(InboxStatus.PROCESSING);
    assertThat(inboxRow(claimed.inboxId()).string("lease_owner")).isEqualTo(OWNER);
    assertThat(audit("EV-lost-finish", "processed")).isEmpty();
  }

  @Test
  void retryLaterByAnOwnerWithoutTheClaimFailsAndRollsBackTheHandlersEffects() throws Exception {
    createScratchTable();
    InboxEvent claimed = appendAndClaim("EV-lost-retry");

    Throwable failure = failure(() -> store.inTransaction(tx -> effect(tx, "EV-lost-retry")
        .compose(n -> InboxTransitions.retryLater(tx, claimed, "intruder", 0, "boom"))));

    assertThat(failure).isInstanceOf(ClaimLostException.class);
    assertThat(effects("EV-lost-retry")).isZero();
    SqlRow row = inboxRow(claimed.inboxId());
    assertThat(row.string("status")).isEqualTo("processing");
    assertThat(row.string("last_error")).isNull();
    assertThat(row.longValue("first_failed_at")).isNull();
    assertThat(audit("EV-lost-retry", "retry_scheduled")).isEmpty();
  }

  @Test
  void deadLetterByAnOwnerWithoutTheClaimFailsAndRollsBackTheHandlersEffects() throws Exception {
    createScratchTable();
    InboxEvent claimed = appendAndClaim("EV-lost-dead");

    Throwable failure = failure(() -> store.inTransaction(tx -> effect(tx, "EV-lost-dead")
        .compose(n -> InboxTransitions.deadLetter(tx, claimed, "intruder", "boom", "stack"))));

    assertThat(failure).isInstanceOf(ClaimLostException.class);
    assertThat(effects("EV-lost-dead")).isZero();
    assertThat(call(() -> store.status("openphone", "EV-lost-dead"))).isEqualTo(InboxStatus.PROCESSING);
    assertThat(count("SELECT COUNT(*) AS n FROM dead_letters WHERE inbox_id = ?", claimed.inboxId())).isZero();
    assertThat(audit("EV-lost-dead", "dead_lettered")).isEmpty();
  }

  /** The old owner of a claim that was taken over changes nothing, its effects included. */
  @Test
  void theOwnerOfATakenOverClaimCannotCommitItsEffects() throws Exception {
    createScratchTable();
    call(() -> store.append(event("EV-taken")));
    InboxEvent stale = call(() -> store.claim("stalled-instance", -1_000, 10)).get(0);
    InboxEvent current = call(() -> store.claim(OWNER, LEASE, 10)).get(0);

    Throwable failure = failure(() -> store.inTransaction(tx -> effect(tx, "EV-taken-stale")
        .compose(n -> InboxTransitions.finish(tx, stale, "stalled-instance", InboxStatus.PROCESSED, "late"))));
    assertThat(failure).isInstanceOf(ClaimLostException.class);
    assertThat(effects("EV-taken-stale")).isZero();

    call(() -> store.inTransaction(tx -> effect(tx, "EV-taken-current")
        .compose(n -> InboxTransitions.finish(tx, current, OWNER, InboxStatus.PROCESSED, "done"))));
    assertThat(effects("EV-taken-current")).isEqualTo(1);
    assertThat(call(() -> store.status("openphone", "EV-taken"))).isEqualTo(InboxStatus.PROCESSED);
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  @Test
  void checkSucceedsWhileOpen() throws Exception {
    call(() -> store.check());
  }

  @Test
  void afterCloseAppendFailsWithStorageUnavailableAndNothingWorks() throws Exception {
    closeStore();

    assertThat(failure(() -> store.append(event("EV-late")))).isInstanceOf(StorageUnavailableException.class);
    assertThat(failure(() -> store.check())).isNotNull();
    assertThat(failure(() -> store.claim(OWNER, LEASE, 10))).isNotNull();
    assertThat(countDirect("SELECT COUNT(*) FROM inbox_events WHERE event_id = 'EV-late'")).isZero();
  }

  /**
   * The port's contract: results arrive on the caller's context, close() included. Appends are
   * queued first so that the store is still busy when close() is asked.
   */
  @Test
  void closeCompletesOnTheCallersContext() throws Exception {
    closedAfter(() -> call(() -> {
      for (int i = 0; i < 200; i++) {
        store.append(event("EV-before-close-" + i));
      }
      return store.close();
    }));
  }

  /** The port's contract: close() "finishes queued writes, then releases the storage". */
  @Test
  void closeFinishesWritesAlreadyQueued() throws Exception {
    List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String id = "EV-queued-" + i;
      appends.add(start(context, () -> store.append(event(id))));
    }
    // Asked on the same context right after the appends, so close() comes after all of them.
    CompletableFuture<Void> closing = new CompletableFuture<>();
    closedAfter(() -> {
      context.runOnContext(v -> store.close().onComplete(ar -> closing.complete(null)));
      closing.get(10, TimeUnit.SECONDS);
    });
    List<String> failed = new ArrayList<>();
    for (CompletableFuture<AppendResult> append : appends) {
      try {
        AppendResult result = append.get(10, TimeUnit.SECONDS);
        if (!result.stored()) {
          failed.add("not stored: " + result);
        }
      } catch (ExecutionException e) {
        failed.add(e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage());
      }
    }
    long rows = countDirect("SELECT COUNT(*) FROM inbox_events");
    assertThat(failed).as("appends queued before close() that were not stored (%d of 50 rows written)", rows)
        .isEmpty();
    assertThat(rows).isEqualTo(50);
  }

  private interface Closing {
    void run() throws Exception;
  }

  /** Runs {@code closing}, which closes the store itself; the store counts as closed afterwards. */
  private void closedAfter(Closing closing) throws Exception {
    closed = true;
    closing.run();
  }
}
