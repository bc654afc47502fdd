package io.webhookd.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.webhookd.config.Settings;
import io.webhookd.config.Settings.SqliteSynchronous;
import io.webhookd.config.SettingsLoader;
import io.webhookd.event.ContentHash;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.sqlite.SqliteInboxStore;
import io.webhookd.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite inbox on a real file. Every call is made from a Vert.x context and its result must
 * come back on that same context; the test thread only waits for the outcome.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SqliteInboxStoreTest {

  private static final String OWNER = "test-instance";
  private static final long LEASE = Duration.ofSeconds(30).toMillis();

  @TempDir
  Path dataDir;

  private Settings.Store settings;
  private Vertx vertx;
  private Context context;
  private SqliteInboxStore store;

  /** The shipped store defaults (synchronous=FULL), read the way the service reads them. */
  @BeforeEach
  void open(Vertx vertx, @TempDir Path confDir) throws Exception {
    Settings defaults = SettingsLoader.load(Files.writeString(confDir.resolve("empty.yaml"), ""), Map.of());
    assertThat(defaults.store().sqliteSynchronous()).isEqualTo(SqliteSynchronous.FULL);
    this.settings = defaults.store();
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.store = SqliteInboxStore.open(dataDir, settings, OWNER);
  }

  @AfterEach
  void close() throws Exception {
    closeStore();
  }

  /** Closes and waits; where close() delivers its result is checked by its own test. */
  private void closeStore() throws Exception {
    store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  /** Runs {@code call} on {@code on} and checks that its result is delivered on {@code on}. */
  private static <T> CompletableFuture<T> start(Context on, Supplier<Future<T>> call) {
    CompletableFuture<T> outcome = new CompletableFuture<>();
    on.runOnContext(v -> call.get().onComplete(ar -> {
      if (Vertx.currentContext() != on) {
        outcome.completeExceptionally(new AssertionError(
            "result delivered on " + Vertx.currentContext() + " (" + Thread.currentThread().getName()
                + "), not on the caller's context"));
      } else if (ar.succeeded()) {
        outcome.complete(ar.result());
      } else {
        outcome.completeExceptionally(ar.cause());
      }
    }));
    return outcome;
  }

  private <T> T call(Supplier<Future<T>> call) throws Exception {
    try {
      return start(context, call).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AssertionError assertion) {
        throw assertion;
      }
      throw e;
    }
  }

  private Throwable failure(Supplier<Future<?>> call) throws Exception {
    CompletableFuture<?> outcome = start(context, () -> call.get().<Object>map(x -> x));
    try {
      Object result = outcome.get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + result);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /** Marks a claimed event processed, the way processing does: through a transaction. */
  private Future<Void> complete(InboxEvent claimed, String owner) {
    return store.inTransaction(tx -> InboxTransitions.finish(tx, claimed, owner, InboxStatus.PROCESSED, "done"));
  }

  private static WebhookEvent event(String eventId) {
    return event(eventId, ("{\"id\":\"" + eventId + "\",\"type\":\"message.received\"}")
        .getBytes(StandardCharsets.UTF_8));
  }

  private static WebhookEvent event(String eventId, byte[] body) {
    return new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, eventId, "message.received",
        1_642_956_952_557L, "conversation:CN1", 1_700_000_000_000L, "openphone", body);
  }

  private Connection jdbc() throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve(SqliteInboxStore.FILE_NAME));
  }

  private long count(String sql, Object... args) throws SQLException {
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

  // ---- append -----------------------------------------------------------------------------------

  @Test
  void appendStoresTheEventAndReturnsItsId() throws Exception {
    byte[] body = Fixtures.bytes(Fixtures.LEGACY_V2_MESSAGE_RECEIVED);
    AppendResult result = call(() -> store.append(event("EV1", body)));

    assertThat(result.stored()).isTrue();
    assertThat(result.inboxId()).isPositive();
    assertThat(call(() -> store.status("openphone", "EV1"))).isEqualTo(InboxStatus.PENDING);
    assertThat(call(() -> store.status("openphone", "EV-unknown"))).isNull();

    try (Connection connection = jdbc();
         PreparedStatement select = connection.prepareStatement(
             "SELECT id, source, event_id, event_type, partition_key, signature_scheme, body, status "
                 + "FROM inbox_events WHERE event_id = 'EV1'");
         ResultSet rs = select.executeQuery()) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong("id")).isEqualTo(result.inboxId());
      assertThat(rs.getString("source")).isEqualTo("openphone");
      assertThat(rs.getString("event_type")).isEqualTo("message.received");
      assertThat(rs.getString("partition_key")).isEqualTo("conversation:CN1");
      assertThat(rs.getString("signature_scheme")).isEqualTo("openphone");
      assertThat(rs.getBytes("body")).isEqualTo(body);
      assertThat(rs.getString("status")).isEqualTo("pending");
    }
  }

  @Test
  void secondAppendOfTheSameEventIsADuplicateAndStoresNothing() throws Exception {
    AppendResult first = call(() -> store.append(event("EV-dup")));
    AppendResult second = call(() -> store.append(event("EV-dup", "{\"other\":true}".getBytes(StandardCharsets.UTF_8))));

    assertThat(first.stored()).isTrue();
    assertThat(second).isEqualTo(AppendResult.DUPLICATE);
    assertThat(second.stored()).isFalse();
    assertThat(count("SELECT COUNT(*) FROM inbox_events WHERE source = ? AND event_id = ?", "openphone", "EV-dup"))
        .isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM inbox_events WHERE body = ?",
        "{\"id\":\"EV-dup\",\"type\":\"message.received\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(1);
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

  @Test
  void concurrentAppendsStoreEachEventExactlyOnce() throws Exception {
    int distinct = 250;
    List<Context> callers = List.of(context, vertx.getOrCreateContext(), vertx.getOrCreateContext(),
        vertx.getOrCreateContext());
    List<CompletableFuture<AppendResult>> outcomes = new ArrayList<>();
    // Each id twice, from different contexts, all in flight at once: 500 appends.
    for (int copy = 0; copy < 2; copy++) {
      for (int i = 0; i < distinct; i++) {
        String id = "EV-concurrent-" + i;
        Context caller = callers.get((i + copy) % callers.size());
        outcomes.add(start(caller, () -> store.append(event(id))));
      }
    }
    CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);

    List<AppendResult> results = outcomes.stream().map(CompletableFuture::join).toList();
    assertThat(results).hasSize(2 * distinct);
    List<AppendResult> stored = results.stream().filter(AppendResult::stored).toList();
    assertThat(stored).hasSize(distinct);
    assertThat(stored.stream().map(AppendResult::inboxId).distinct()).hasSize(distinct);
    assertThat(results.stream().filter(r -> !r.stored())).allMatch(r -> r.equals(AppendResult.DUPLICATE));
    for (int i = 0; i < distinct; i++) {
      // For each id exactly one of its two appends stored it.
      assertThat(outcomes.get(i).join().stored() ^ outcomes.get(distinct + i).join().stored())
          .as("EV-concurrent-%d stored once", i).isTrue();
    }
    assertThat(count("SELECT COUNT(*) FROM inbox_events")).isEqualTo(distinct);
    assertThat(count("SELECT COUNT(DISTINCT event_id) FROM inbox_events")).isEqualTo(distinct);
  }

  // ---- processing states (claim / complete / abandon) ------------------------------------------

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
    assertThat(inbox.event().partitionKey()).isEqualTo("conversation:CN1");
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
  void onlyTheClaimOwnerCanComplete() throws Exception {
    call(() -> store.append(event("EV-owner")));
    InboxEvent claimed = call(() -> store.claim(OWNER, LEASE, 10)).get(0);
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

    List<InboxEvent> again = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(again).extracting(InboxEvent::inboxId).as("only the event already due").containsExactly(now);
    assertThat(again.get(0).attempt()).isEqualTo(2);
  }

  /**
   * The port's contract: "processing with an expired lease" is due again. A lease that ended a
   * second ago stands in for an instance that stalled past its lease.
   */
  @Test
  void eventWhoseLeaseExpiredCanBeClaimedAgain() throws Exception {
    long id = call(() -> store.append(event("EV-stalled"))).inboxId();
    List<InboxEvent> stalled = call(() -> store.claim("stalled-instance", -1_000, 10));
    assertThat(stalled).hasSize(1);

    List<InboxEvent> takenOver = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(takenOver).extracting(InboxEvent::inboxId).containsExactly(id);
    assertThat(takenOver.get(0).attempt()).isEqualTo(2);
    assertThat(failure(() -> complete(stalled.get(0), "stalled-instance"))).as("the old claim is void")
        .isInstanceOf(ClaimLostException.class);
    call(() -> complete(takenOver.get(0), OWNER));
    assertThat(call(() -> store.status("openphone", "EV-stalled"))).isEqualTo(InboxStatus.PROCESSED);
  }

  @Test
  void renewedLeaseIsNotTakenOver() throws Exception {
    call(() -> store.append(event("EV-renewed")));
    call(() -> store.claim(OWNER, -1_000, 10));
    call(() -> store.renew(OWNER, LEASE));
    assertThat(call(() -> store.claim("another-instance", LEASE, 10))).isEmpty();
  }

  @Test
  void abandonByAnotherOwnerChangesNothing() throws Exception {
    long id = call(() -> store.append(event("EV-kept"))).inboxId();
    call(() -> store.claim(OWNER, LEASE, 10));
    call(() -> store.abandon(id, "another-instance", 0));
    assertThat(call(() -> store.status("openphone", "EV-kept"))).isEqualTo(InboxStatus.PROCESSING);
    assertThat(call(() -> store.claim(OWNER, LEASE, 10))).isEmpty();
  }

  @Test
  void aFailedTransactionIsUndoneAloneAndItsNeighboursCommit() throws Exception {
    CompletableFuture<AppendResult> before = start(context, () -> store.append(event("EV-neighbour-1")));
    CompletableFuture<Object> failing = start(context, () -> store.inTransaction(tx -> tx.update(
            "INSERT INTO rejected_requests (body_sha256, reason, first_seen_at, last_seen_at, times_seen, body) "
                + "VALUES (?, 'test', 0, 0, 1, ?)", "written-then-undone", new byte[] {1})
        .compose(rows -> Future.failedFuture(new IllegalStateException("the handler failed")))));
    CompletableFuture<AppendResult> after = start(context, () -> store.append(event("EV-neighbour-2")));

    assertThat(before.get(10, TimeUnit.SECONDS).stored()).isTrue();
    assertThat(after.get(10, TimeUnit.SECONDS).stored()).isTrue();
    try {
      failing.get(10, TimeUnit.SECONDS);
      throw new AssertionError("the transaction should have failed");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessage("the handler failed");
    }
    assertThat(count("SELECT COUNT(*) FROM rejected_requests WHERE body_sha256 = 'written-then-undone'")).isZero();
    assertThat(count("SELECT COUNT(*) FROM inbox_events")).isEqualTo(2);
  }

  // ---- quarantine -------------------------------------------------------------------------------

  @Test
  void quarantineKeepsOneRowPerDistinctBody() throws Exception {
    byte[] body = "not json at all".getBytes(StandardCharsets.UTF_8);
    String hash = ContentHash.of(body);
    call(() -> store.quarantine(new RejectedRequest(hash, "invalid_json", "openphone", "text/plain", 1000L, body)));
    call(() -> store.quarantine(new RejectedRequest(hash, "invalid_json", "openphone", "text/plain", 2000L, body)));
    byte[] other = "[]".getBytes(StandardCharsets.UTF_8);
    call(() -> store.quarantine(
        new RejectedRequest(ContentHash.of(other), "invalid_json", "seed", null, 3000L, other)));

    assertThat(count("SELECT COUNT(*) FROM rejected_requests WHERE body_sha256 = ?", hash)).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM rejected_requests")).isEqualTo(2);
    try (Connection connection = jdbc();
         PreparedStatement select = connection.prepareStatement(
             "SELECT reason, signature_scheme, content_type, first_seen_at, last_seen_at, times_seen, body "
                 + "FROM rejected_requests WHERE body_sha256 = ?")) {
      select.setString(1, hash);
      try (ResultSet rs = select.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString("reason")).isEqualTo("invalid_json");
        assertThat(rs.getString("signature_scheme")).isEqualTo("openphone");
        assertThat(rs.getString("content_type")).isEqualTo("text/plain");
        assertThat(rs.getLong("first_seen_at")).isEqualTo(1000L);
        assertThat(rs.getLong("last_seen_at")).isEqualTo(2000L);
        assertThat(rs.getLong("times_seen")).isEqualTo(2);
        assertThat(rs.getBytes("body")).isEqualTo(body);
      }
    }
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  @Test
  void checkSucceedsWhileOpen() throws Exception {
    call(() -> store.check());
  }

  @Test
  void afterCloseEveryCallFailsWithStorageUnavailable() throws Exception {
    closeStore();

    assertThat(failure(() -> store.append(event("EV-late")))).isInstanceOf(StorageUnavailableException.class);
    assertThat(failure(() -> store.check())).isInstanceOf(StorageUnavailableException.class);
    assertThat(failure(() -> store.claim(OWNER, LEASE, 10))).isInstanceOf(StorageUnavailableException.class);
    assertThat(count("SELECT COUNT(*) FROM inbox_events WHERE event_id = 'EV-late'")).isZero();
  }

  /**
   * The port's contract: results arrive on the caller's context, close() included. Appends are
   * queued first so that the writer thread is still busy when close() is asked.
   */
  @Test
  void closeCompletesOnTheCallersContext() throws Exception {
    call(() -> {
      for (int i = 0; i < 200; i++) {
        store.append(event("EV-before-close-" + i));
      }
      return store.close();
    });
  }

  @Test
  void closeFinishesWritesAlreadyQueued() throws Exception {
    List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String id = "EV-queued-" + i;
      appends.add(start(context, () -> store.append(event(id))));
    }
    // Asked on the same context right after the appends, so close() comes after all of them.
    CompletableFuture<Void> closed = new CompletableFuture<>();
    context.runOnContext(v -> store.close().onComplete(ar -> closed.complete(null)));
    closed.get(10, TimeUnit.SECONDS);
    CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertThat(appends).allMatch(f -> f.join().stored());
    assertThat(count("SELECT COUNT(*) FROM inbox_events")).isEqualTo(50);
  }

  @Test
  void reopeningTheSameDirectoryKeepsTheEvents() throws Exception {
    Set<Long> ids = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      String id = "EV-durable-" + i;
      ids.add(call(() -> store.append(event(id))).inboxId());
    }
    long claimedId = call(() -> store.claim(OWNER, LEASE, 1)).get(0).inboxId();
    closeStore();

    store = SqliteInboxStore.open(dataDir, settings, OWNER);

    for (int i = 0; i < 3; i++) {
      String id = "EV-durable-" + i;
      assertThat(call(() -> store.status("openphone", id))).as(id).isEqualTo(InboxStatus.PENDING);
      assertThat(call(() -> store.append(event(id)))).as(id).isEqualTo(AppendResult.DUPLICATE);
    }
    // The event claimed before the restart is claimable again (second attempt), with the others.
    List<InboxEvent> claimable = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(claimable).extracting(InboxEvent::inboxId).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(claimable).filteredOn(e -> e.inboxId() == claimedId)
        .singleElement().extracting(InboxEvent::attempt).isEqualTo(2);

    AppendResult fresh = call(() -> store.append(event("EV-after-reopen")));
    assertThat(fresh.stored()).isTrue();
    assertThat(fresh.inboxId()).isGreaterThan(ids.stream().mapToLong(Long::longValue).max().orElseThrow());
  }
}
