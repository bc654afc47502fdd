package io.webhookd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.TransactionRollbackException;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.postgres.PgInboxStore;
import io.webhookd.testing.Poll;
import io.webhookd.testing.PrivateDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link InboxStoreContract} on the PostgreSQL adapter against a database of this class's own on
 * the test server (the shared test database may be emptied by another build meanwhile), emptied
 * before each test and dropped after the last; plus what only the shared store does: partition
 * leases between instances.
 */
class PgInboxStoreTest extends InboxStoreContract {

  private static PrivateDatabase database;

  @BeforeAll
  static void createDatabase() throws Exception {
    database = PrivateDatabase.create("store");
  }

  @AfterAll
  static void dropDatabase() throws Exception {
    if (database != null) {
      database.close();
    }
  }

  @Override
  protected InboxStore openStore(Vertx vertx, Settings.Store settings) throws Exception {
    database.truncateAll();
    return PgInboxStore.open(vertx, new Settings.Postgres(database.url(), 4, Duration.ofSeconds(10)), settings, OWNER);
  }

  @Override
  protected Connection jdbc() throws SQLException {
    return database.jdbc();
  }

  private SqlRow partitionLease(String partitionKey) throws Exception {
    return row("SELECT owner, lease_until FROM partition_leases WHERE partition_key = ?", partitionKey);
  }

  // ---- prepared statements ---------------------------------------------------------------------

  /**
   * The append's statement, longer than the client's default limit for statements it keeps, is
   * prepared once per connection and not parsed and planned again for every batch.
   */
  @Test
  void theAppendsStatementStaysPreparedOnItsConnection() throws Exception {
    closeStore();
    // One connection, so that the query below runs in the session that appended.
    useStore(PgInboxStore.open(vertx, new Settings.Postgres(database.url(), 1, Duration.ofSeconds(10)),
        settings, OWNER));
    call(() -> store.append(event("EV-prepared-1")));
    call(() -> store.append(event("EV-prepared-2")));

    List<SqlRow> prepared = call(() -> store.inTransaction(tx -> tx.query(
        "SELECT statement FROM pg_prepared_statements WHERE statement LIKE ?", "%INSERT INTO inbox_events%")));
    assertThat(prepared).singleElement()
        .satisfies(row -> assertThat(row.string("statement").length()).isGreaterThan(2_048));
  }

  // ---- hung connections ------------------------------------------------------------------------

  /**
   * Every connection of the pool is stuck (here: waiting for a lock that another session holds, as
   * a connection whose network path froze waits for an answer). Each operation fails once its
   * deadline passes, its connection is given up rather than returned to the pool, so the store
   * answers again at once; and the timed-out transaction's effect never commits, even when its
   * connection's server side finally gets the lock.
   */
  @Test
  void operationsThatOverrunFailAndTheirConnectionsAreGivenUp() throws Exception {
    String table = "pg_give_up_scratch";
    try (Connection setup = jdbc(); Statement statement = setup.createStatement()) {
      statement.execute("CREATE TABLE IF NOT EXISTS " + table + " (note TEXT)");
      statement.execute("DELETE FROM " + table);
    }
    closeStore();
    int poolSize = 2;
    useStore(PgInboxStore.open(vertx, new Settings.Postgres(database.url(), poolSize, Duration.ofSeconds(1)),
        settings, OWNER));
    try (Connection locker = jdbc()) {
      locker.setAutoCommit(false);
      try (Statement statement = locker.createStatement()) {
        statement.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
      }
      List<CompletableFuture<Integer>> stuck = new ArrayList<>();
      for (int i = 0; i < poolSize; i++) {
        stuck.add(start(context, () -> store.inTransaction(tx -> tx.update(
            "INSERT INTO " + table + " (note) VALUES ('should roll back')"))));
      }
      long started = System.nanoTime();
      for (CompletableFuture<Integer> op : stuck) {
        Throwable failure = assertThrows(ExecutionException.class, () -> await(op)).getCause();
        assertThat(failure).isInstanceOf(StorageUnavailableException.class).hasMessageContaining("did not answer");
      }
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));

      // The pool is not left holding the stuck connections: a new one answers while the lock is held.
      call(() -> store.check());
      locker.commit();
    }
    // The stuck sessions get the lock now, then find their client gone and roll back.
    try (Connection direct = jdbc()) {
      Poll.until("the stuck sessions to end", Duration.ofSeconds(20),
          () -> countOn(direct, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
              + " AND query LIKE 'INSERT INTO " + table + "%'"), sessions -> sessions == 0);
      assertThat(countOn(direct, "SELECT COUNT(*) FROM " + table)).as("rows of timed-out transactions").isZero();
    }
  }

  // ---- transactions run together ---------------------------------------------------------------

  private static final String BLOCKER = "pg_blocker_scratch";
  private static final String TOGETHER = "pg_together_scratch";

  /**
   * Transactions asked for while one runs wait for it, then run together: one database transaction,
   * so one transaction id and one commit for all of them.
   */
  @Test
  void transactionsAskedForWhileOneRunsShareOneCommit() throws Exception {
    List<CompletableFuture<Integer>> queued = queueBehindABlockedTransaction(10, i -> tx -> insertTogether(tx, i));

    for (CompletableFuture<Integer> done : queued) {
      assertThat(await(done)).isEqualTo(1);
    }
    try (Connection direct = jdbc()) {
      assertThat(countOn(direct, "SELECT COUNT(*) FROM " + TOGETHER)).isEqualTo(10);
      assertThat(countOn(direct, "SELECT COUNT(DISTINCT xid) FROM " + TOGETHER)).as("transactions").isEqualTo(1);
    }
  }

  /**
   * A group with a failing transaction in it is undone and each of its transactions runs again
   * alone: only the failing ones fail, here a handler's failure and a statement PostgreSQL refused.
   */
  @Test
  void aFailingTransactionFailsAloneAndTheRestOfItsGroupCommits() throws Exception {
    int failing = 4;
    int refused = 7;
    List<CompletableFuture<Integer>> queued = queueBehindABlockedTransaction(10, i -> tx -> {
      if (i == failing) {
        return insertTogether(tx, i).compose(n -> Future.failedFuture(new IllegalStateException("the handler failed")));
      }
      if (i == refused) {
        return tx.update("INSERT INTO no_such_table (note) VALUES ('refused')").recover(e -> Future.succeededFuture(0));
      }
      return insertTogether(tx, i);
    });

    for (int i = 0; i < queued.size(); i++) {
      CompletableFuture<Integer> done = queued.get(i);
      if (i == failing) {
        assertThat(assertThrows(ExecutionException.class, () -> await(done)).getCause())
            .isInstanceOf(IllegalStateException.class);
      } else if (i == refused) {
        // Alone, the client's transaction rolls back as soon as one of its statements fails.
        assertThat(assertThrows(ExecutionException.class, () -> await(done)).getCause())
            .isInstanceOf(TransactionRollbackException.class);
      } else {
        assertThat(await(done)).as("transaction %d", i).isEqualTo(1);
      }
    }
    try (Connection direct = jdbc()) {
      assertThat(countOn(direct, "SELECT COUNT(*) FROM " + TOGETHER)).isEqualTo(8);
      assertThat(countOn(direct, "SELECT COUNT(*) FROM " + TOGETHER + " WHERE note = 'queued-" + failing + "'")).isZero();
      assertThat(countOn(direct, "SELECT COUNT(DISTINCT xid) FROM " + TOGETHER)).as("transactions").isEqualTo(8);
    }
  }

  /**
   * PostgreSQL aborts the whole database transaction when it refuses a statement, and a COMMIT of
   * it quietly rolls back. A work that carried on after such a refusal, last in its group so that
   * no other work's statement failed after it, must not have the group report a commit that never
   * happened: the group runs alone, where only that work fails.
   */
  @Test
  void aGroupInWhichAStatementWasRefusedNeverReportsACommit() throws Exception {
    int refused = 9;
    List<CompletableFuture<Integer>> queued = queueBehindABlockedTransaction(10, i -> i == refused
        ? tx -> tx.update("INSERT INTO no_such_table (note) VALUES ('refused')").recover(e -> Future.succeededFuture(0))
        : tx -> insertTogether(tx, i));

    for (int i = 0; i < refused; i++) {
      assertThat(await(queued.get(i))).as("transaction %d", i).isEqualTo(1);
    }
    assertThat(assertThrows(ExecutionException.class, () -> await(queued.get(refused))).getCause())
        .isInstanceOf(TransactionRollbackException.class);
    try (Connection direct = jdbc()) {
      assertThat(countOn(direct, "SELECT COUNT(*) FROM " + TOGETHER)).isEqualTo(9);
    }
  }

  private static Future<Integer> insertTogether(Tx tx, int i) {
    return tx.update("INSERT INTO " + TOGETHER + " (note, xid) VALUES (?, txid_current())", "queued-" + i);
  }

  /**
   * Asks for one transaction that waits for a table lock held here, then, while it waits, for
   * {@code n} more; releases the lock and returns the outcomes of those {@code n}.
   */
  private List<CompletableFuture<Integer>> queueBehindABlockedTransaction(int n,
      IntFunction<Function<Tx, Future<Integer>>> work) throws Exception {
    try (Connection setup = jdbc(); Statement statement = setup.createStatement()) {
      statement.execute("CREATE TABLE IF NOT EXISTS " + BLOCKER + " (note TEXT)");
      statement.execute("CREATE TABLE IF NOT EXISTS " + TOGETHER + " (note TEXT, xid BIGINT)");
      statement.execute("DELETE FROM " + BLOCKER);
      statement.execute("DELETE FROM " + TOGETHER);
    }
    List<CompletableFuture<Integer>> queued = new ArrayList<>();
    try (Connection locker = jdbc(); Connection watcher = jdbc()) {
      locker.setAutoCommit(false);
      try (Statement statement = locker.createStatement()) {
        statement.execute("LOCK TABLE " + BLOCKER + " IN ACCESS EXCLUSIVE MODE");
      }
      CompletableFuture<Integer> blocked = start(context, () -> store.inTransaction(tx -> tx.update(
          "INSERT INTO " + BLOCKER + " (note) VALUES ('waited')")));
      Poll.until("the first transaction waiting for the lock", Duration.ofSeconds(10),
          () -> countOn(watcher, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
              + " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO " + BLOCKER + "%'"), waiting -> waiting == 1);
      for (int i = 0; i < n; i++) {
        int index = i;
        queued.add(start(context, () -> store.inTransaction(work.apply(index))));
      }
      locker.commit();
      assertThat(await(blocked)).isEqualTo(1);
    }
    return queued;
  }

  // ---- leases -----------------------------------------------------------------------------------

  /**
   * A renewal never waits for a row lock: a group of transactions holds the rows of the events it
   * is finishing until it commits, and a renewal that had locked some claims and then waited for
   * those would deadlock with it. The locked claim is left as it was; every other one is extended.
   */
  @Test
  void renewPassesOverClaimsWhoseRowsAreLocked() throws Exception {
    call(() -> store.append(event("EV-renew-locked", "conversation:RL1")));
    call(() -> store.append(event("EV-renew-free", "conversation:RL2")));
    List<InboxEvent> claimed = call(() -> store.claim(OWNER, LEASE, 10));
    assertThat(claimed).hasSize(2);
    long locked = claimed.get(0).inboxId();
    long free = claimed.get(1).inboxId();
    long lockedLease = inboxRow(locked).longValue("lease_until");
    long freeLease = inboxRow(free).longValue("lease_until");

    try (Connection locker = jdbc()) {
      locker.setAutoCommit(false);
      try (Statement statement = locker.createStatement()) {
        statement.execute("SELECT id FROM inbox_events WHERE id = " + locked + " FOR UPDATE");
      }
      call(() -> store.renew(OWNER, LEASE * 10));
      locker.rollback();
    }
    assertThat(inboxRow(free).longValue("lease_until")).isGreaterThan(freeLease + LEASE);
    assertThat(inboxRow(locked).longValue("lease_until")).isEqualTo(lockedLease);
  }

  private static long countOn(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  // ---- claimed and processed on arrival ---------------------------------------------------------

  /**
   * A processed first attempt gives its partition back in the same commit, and so does a duplicate
   * that leased it: no other instance waits for either.
   */
  @Test
  void aFirstAttemptOrADuplicateLeavesNoPartitionLeaseBehind() throws Exception {
    createScratchTable();
    AppendResult result = call(() -> store.appendClaimed(event("EV-released"), OWNER, LEASE, processes("EV-released")));
    assertThat(result.attempted()).isTrue();
    assertThat(count("SELECT COUNT(*) AS n FROM partition_leases")).isZero();

    AppendResult again = call(() -> store.appendClaimed(event("EV-released"), OWNER, LEASE, processes("EV-released")));
    assertThat(again).isEqualTo(AppendResult.DUPLICATE);
    assertThat(count("SELECT COUNT(*) AS n FROM partition_leases")).isZero();
    assertThat(effects("EV-released")).isEqualTo(1);
    call(() -> store.append(event("EV-released-next")));
    assertThat(call(() -> store.claim("owner-b", LEASE, 10))).hasSize(1);
  }

  /**
   * A first attempt that ends processed, as nearly all do, leaves its event's row as it was first
   * written: no second version of it, no index entries for it in the claim's indexes. Counted from
   * PostgreSQL's statistics of the table, which a session reports when it ends.
   */
  @Test
  void aProcessedFirstAttemptWritesItsEventsRowOnce() throws Exception {
    createScratchTable();
    String written = "SELECT n_tup_ins AS n FROM pg_stat_user_tables WHERE relname = 'inbox_events'";
    String updated = "SELECT n_tup_upd AS n FROM pg_stat_user_tables WHERE relname = 'inbox_events'";
    long insertsBefore = countDirect(written);
    long updatesBefore = countDirect(updated);

    AppendResult result = call(() -> store.appendClaimed(event("EV-once"), OWNER, LEASE, processes("EV-once")));
    assertThat(result.attempted()).isTrue();
    assertFinishedOnFirstAttempt(result.inboxId(), "processed");
    assertThat(audit("EV-once")).extracting(r -> r.string("state")).containsExactly("received", "processing", "processed");
    closeStore();

    Poll.until("the appending session's statistics", Duration.ofSeconds(10), () -> countDirect(written),
        n -> n > insertsBefore);
    assertThat(countDirect(updated)).as("updates of inbox_events").isEqualTo(updatesBefore);
  }

  /**
   * Stored claimed without an attempt (none given, or declined), the event keeps its partition
   * leased to its owner, for the owner's workers.
   */
  @Test
  void anEventStoredClaimedKeepsItsPartitionLeased() throws Exception {
    long before = System.currentTimeMillis();
    AppendResult declined = call(() -> store.appendClaimed(event("EV-declined"), OWNER, LEASE,
        attempt((inbox, tx) -> null, (inbox, failure, tx) -> Future.failedFuture("not expected"))));
    long after = System.currentTimeMillis();

    assertThat(declined.claimed()).isTrue();
    assertThat(declined.attempted()).isFalse();
    SqlRow row = inboxRow(declined.inboxId());
    assertThat(row.string("status")).isEqualTo("processing");
    assertThat(row.string("lease_owner")).isEqualTo(OWNER);
    assertThat(row.longValue("lease_until")).isBetween(before + LEASE, after + LEASE);
    assertThat(row.intValue("attempts")).isEqualTo(1);
    List<SqlRow> trail = audit("EV-declined");
    assertThat(trail).extracting(r -> r.string("state")).containsExactly("received", "processing");
    assertThat(trail.get(1).string("actor")).isEqualTo(OWNER);
    assertThat(trail.get(1).longValue("at")).isBetween(before, after);
    assertThat(partitionLease(PARTITION).string("owner")).isEqualTo(OWNER);
    call(() -> store.append(event("EV-declined-next")));
    assertThat(call(() -> store.claim("owner-b", LEASE, 10))).as("the partition is the owner's").isEmpty();
  }

  /**
   * A failed first attempt is undone with every attempt of its batch, and the batch stored again
   * for the workers: claimed, leased, no effects, and no failure recorded here (a worker records it).
   */
  @Test
  void aFailedFirstAttemptLeavesTheEventClaimedForTheWorkers() throws Exception {
    createScratchTable();
    AtomicInteger recorded = new AtomicInteger();
    AppendResult result = call(() -> store.appendClaimed(event("EV-fails"), OWNER, LEASE, attempt(
        (inbox, tx) -> effect(tx, "EV-fails").compose(n -> Future.failedFuture("handler failed")),
        (inbox, failure, tx) -> {
          recorded.incrementAndGet();
          return Future.succeededFuture();
        })));

    assertThat(result.claimed()).isTrue();
    assertThat(result.attempted()).isFalse();
    assertThat(effects("EV-fails")).isZero();
    assertThat(recorded).hasValue(0);
    SqlRow row = inboxRow(result.inboxId());
    assertThat(row.string("status")).isEqualTo("processing");
    assertThat(row.string("lease_owner")).isEqualTo(OWNER);
    assertThat(partitionLease(PARTITION).string("owner")).isEqualTo(OWNER);
    assertThat(audit("EV-fails")).extracting(r -> r.string("state")).containsExactly("received", "processing");
  }

  /**
   * Appends asked for at once share batches, and a batch's attempts one transaction: whichever
   * batch the failing one lands in, every event is stored, each effect is there exactly when its
   * event was processed, and the failing one's never.
   */
  @Test
  void appendsWithFirstAttemptsAtOnceStoreEveryEventAndOnlyProcessedOnesHaveEffects() throws Exception {
    createScratchTable();
    List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String id = "EV-together-" + i;
      boolean fails = i == 7;
      appends.add(start(context, () -> store.appendClaimed(event(id, "conversation:" + id), OWNER, LEASE, attempt(
          (inbox, tx) -> effect(tx, id).compose(n -> fails ? Future.failedFuture("handler failed")
              : processed()),
          (inbox, failure, tx) -> Future.failedFuture("not expected")))));
    }
    for (int i = 0; i < 20; i++) {
      AppendResult result = await(appends.get(i));
      String id = "EV-together-" + i;
      assertThat(result.stored()).as(id).isTrue();
      assertThat(result.claimed()).as(id).isTrue();
      assertThat(effects(id)).as("effects of " + id).isEqualTo(result.attempted() ? 1 : 0);
      assertThat(inboxRow(result.inboxId()).string("status")).as(id)
          .isEqualTo(result.attempted() ? "processed" : "processing");
      if (i == 7) {
        assertThat(result.attempted()).as("the failing attempt").isFalse();
      }
    }
  }

  /**
   * A first attempt that waits for a lock another transaction holds gives up within the lock
   * timeout: the sender's answer does not wait for that transaction, and the event is stored for
   * the workers.
   */
  @Test
  void aFirstAttemptThatWaitsForALockGivesUpAndTheEventIsStoredForTheWorkers() throws Exception {
    createScratchTable();
    try (Connection holder = jdbc(); Statement statement = holder.createStatement()) {
      holder.setAutoCommit(false);
      statement.execute("LOCK TABLE " + SCRATCH + " IN EXCLUSIVE MODE");
      AppendResult result = call(() -> store.appendClaimed(event("EV-blocked"), OWNER, LEASE, processes("EV-blocked")));
      holder.rollback();

      assertThat(result.claimed()).isTrue();
      assertThat(result.attempted()).isFalse();
      assertThat(inboxRow(result.inboxId()).string("status")).isEqualTo("processing");
    }
    assertThat(effects("EV-blocked")).isZero();
  }

  /**
   * A first attempt that is not done in time (its handler waits for something other than its
   * statements) is given up: the sender gets its answer, the event is stored for the workers, and
   * what the attempt sends once it goes on is refused rather than run outside the transaction.
   */
  @Test
  void aFirstAttemptNotDoneInTimeIsGivenUpAndCanWriteNothingAfterwards() throws Exception {
    createScratchTable();
    Promise<Void> handlerWaits = Promise.promise();
    CompletableFuture<Integer> lateWrite = new CompletableFuture<>();
    AppendResult result = call(() -> store.appendClaimed(event("EV-slow"), OWNER, LEASE, attempt(
        (inbox, tx) -> handlerWaits.future().compose(v -> effect(tx, "EV-slow"))
            .onComplete(ar -> lateWrite.complete(ar.succeeded() ? 1 : 0)).compose(n -> processed()),
        (inbox, failure, tx) -> Future.failedFuture("not expected"))));

    assertThat(result.claimed()).isTrue();
    assertThat(result.attempted()).isFalse();
    context.runOnContext(v -> handlerWaits.complete());
    assertThat(lateWrite.get(10, TimeUnit.SECONDS)).as("the late statement succeeded").isZero();
    assertThat(effects("EV-slow")).isZero();
    assertThat(inboxRow(result.inboxId()).string("status")).isEqualTo("processing");
  }

  /** Nothing overtakes an older event of its conversation that waits to be claimed, nor another owner's lease. */
  @Test
  void anEventIsStoredPendingBehindItsConversationOrAnotherOwnersLease() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    FirstAttempt counted = attempt((inbox, tx) -> {
      attempts.incrementAndGet();
      return processed();
    }, (inbox, failure, tx) -> Future.failedFuture("not expected"));
    call(() -> store.append(event("EV-older", "conversation:a")));
    AppendResult behind = call(() -> store.appendClaimed(event("EV-behind", "conversation:a"), OWNER, LEASE, counted));

    try (Connection connection = jdbc(); Statement statement = connection.createStatement()) {
      statement.execute("INSERT INTO partition_leases (partition_key, owner, lease_until) VALUES ('conversation:b', "
          + "'owner-b', " + (System.currentTimeMillis() + LEASE) + ")");
    }
    AppendResult leased = call(() -> store.appendClaimed(event("EV-leased", "conversation:b"), OWNER, LEASE, counted));

    for (AppendResult result : List.of(behind, leased)) {
      assertThat(result.claimed()).isFalse();
      assertThat(inboxRow(result.inboxId()).string("status")).isEqualTo("pending");
    }
    assertThat(attempts).hasValue(0);
    assertThat(partitionLease("conversation:b").string("owner")).isEqualTo("owner-b");
    assertThat(count("SELECT COUNT(*) AS n FROM partition_leases WHERE partition_key = 'conversation:a'")).isZero();
  }

  // ---- partition leases -------------------------------------------------------------------------

  @Test
  void claimLeasesTheEventsPartitionToTheOwner() throws Exception {
    long before = System.currentTimeMillis();
    appendAndClaim("EV-leased");
    long after = System.currentTimeMillis();

    SqlRow lease = partitionLease(PARTITION);
    assertThat(lease.string("owner")).isEqualTo(OWNER);
    assertThat(lease.longValue("lease_until")).isBetween(before + LEASE, after + LEASE);
  }

  @Test
  void renewExtendsPartitionLeasesToo() throws Exception {
    call(() -> store.append(event("EV-renew-partition")));
    assertThat(call(() -> store.claim(OWNER, 1_000, 10))).hasSize(1);
    long before = System.currentTimeMillis();
    call(() -> store.renew(OWNER, LEASE));
    long after = System.currentTimeMillis();

    assertThat(partitionLease(PARTITION).longValue("lease_until")).isBetween(before + LEASE, after + LEASE);
  }

  /**
   * A claim can lease a partition without taking any of its events (here its limit of one takes an
   * expired claim of partition A, while B's pending event was a candidate too). Renewal keeps A,
   * where the owner holds an event, and lets B lapse, so another owner gets B's event.
   */
  @Test
  void renewKeepsOnlyPartitionsInWhichTheOwnerHoldsAClaimedEvent() throws Exception {
    String a = "conversation:renew-A";
    String b = "conversation:renew-B";
    call(() -> store.append(event("EV-renew-a", a)));
    assertThat(call(() -> store.claim("owner-gone", 1, 10))).hasSize(1);
    call(() -> store.append(event("EV-renew-b", b)));
    long goneUntil = partitionLease(a).longValue("lease_until");
    eventually(() -> Future.succeededFuture(System.currentTimeMillis()), now -> now > goneUntil,
        Duration.ofSeconds(5));

    long shortLease = 1_000;
    assertThat(call(() -> store.claim(OWNER, shortLease, 1))).extracting(e -> e.event().eventId())
        .containsExactly("EV-renew-a");
    assertThat(partitionLease(b).string("owner")).as("precondition: B leased without its event").isEqualTo(OWNER);
    long bLeasedUntil = partitionLease(b).longValue("lease_until");

    long before = System.currentTimeMillis();
    call(() -> store.renew(OWNER, LEASE));

    assertThat(partitionLease(a).longValue("lease_until")).isGreaterThanOrEqualTo(before + LEASE);
    assertThat(partitionLease(b).longValue("lease_until")).as("B not renewed").isEqualTo(bLeasedUntil);
    List<InboxEvent> taken = eventually(() -> store.claim("owner-b", LEASE, 10), r -> !r.isEmpty(),
        Duration.ofSeconds(10));
    assertThat(taken).extracting(e -> e.event().eventId()).containsExactly("EV-renew-b");
  }

  /**
   * The owner that finished a partition's events still leases the partition, so its next event
   * waits for that owner; once released, another owner claims it at once.
   */
  @Test
  void releaseLetsAnotherOwnerClaimThePartitionAtOnce() throws Exception {
    InboxEvent first = appendAndClaim("EV-held-1");
    call(() -> complete(first, OWNER));
    long next = call(() -> store.append(event("EV-held-2"))).inboxId();

    assertThat(call(() -> store.claim("owner-b", LEASE, 10))).as("the partition is still leased").isEmpty();
    assertThat(call(() -> store.status("openphone", "EV-held-2"))).isEqualTo(InboxStatus.PENDING);

    call(() -> store.release(OWNER, List.of(PARTITION)));
    assertThat(count("SELECT COUNT(*) AS n FROM partition_leases WHERE partition_key = ?", PARTITION)).isZero();

    assertThat(call(() -> store.claim("owner-b", LEASE, 10))).extracting(InboxEvent::inboxId).containsExactly(next);
    assertThat(partitionLease(PARTITION).string("owner")).isEqualTo("owner-b");
  }

  @Test
  void releaseGivesUpOnlyTheOwnersOwnLeases() throws Exception {
    appendAndClaim("EV-not-released");
    call(() -> store.release("owner-b", List.of(PARTITION)));

    assertThat(partitionLease(PARTITION).string("owner")).isEqualTo(OWNER);
    call(() -> store.append(event("EV-not-released-2")));
    assertThat(call(() -> store.claim("owner-b", LEASE, 10))).isEmpty();
  }

  @Test
  void partitionLeasedByOneOwnerIsClaimableByAnotherOnlyOnceTheLeaseExpires() throws Exception {
    long shortLease = 300;
    InboxEvent first;
    call(() -> store.append(event("EV-short-1")));
    List<InboxEvent> claimed = call(() -> store.claim(OWNER, shortLease, 10));
    assertThat(claimed).hasSize(1);
    first = claimed.get(0);
    call(() -> complete(first, OWNER));
    SqlRow lease = partitionLease(PARTITION);
    assertThat(lease.string("owner")).isEqualTo(OWNER);
    long leaseUntil = lease.longValue("lease_until");
    long next = call(() -> store.append(event("EV-short-2"))).inboxId();

    List<InboxEvent> early = call(() -> store.claim("owner-b", LEASE, 10));
    long answeredAt = System.currentTimeMillis();
    assertThat(answeredAt).as("precondition: the early claim ran within the %d ms lease", shortLease)
        .isLessThan(leaseUntil);
    assertThat(early).as("leased by " + OWNER).isEmpty();

    List<InboxEvent> late = eventually(() -> store.claim("owner-b", LEASE, 10), r -> !r.isEmpty(),
        Duration.ofSeconds(10));
    assertThat(late).extracting(InboxEvent::inboxId).containsExactly(next);
    List<SqlRow> processing = audit("EV-short-2", "processing");
    assertThat(processing).hasSize(1);
    assertThat(processing.get(0).string("actor")).isEqualTo("owner-b");
    assertThat(processing.get(0).longValue("at")).as("claimed only after the lease ended").isGreaterThan(leaseUntil);
    assertThat(partitionLease(PARTITION).string("owner")).isEqualTo("owner-b");
  }

  /**
   * 200 events over 20 partitions, two owners claiming, working and releasing concurrently. While
   * an owner holds a partition (from its claim's answer until it starts releasing it), the other
   * owner never gets an event of that partition; every event is claimed exactly once.
   */
  @Test
  void twoOwnersClaimingConcurrentlyNeverHoldTheSamePartitionAtOnce() throws Exception {
    int partitions = 20;
    int total = 200;
    List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
    // Partitions in a scattered (but fixed) order, so that consecutive claims of the two owners
    // want the same partitions: every batch of the oldest due events spans most of them.
    Random random = new Random(42);
    for (int i = 0; i < total; i++) {
      String eventId = "EV-shared-" + i;
      String partition = "conversation:P" + (i < partitions ? i : random.nextInt(partitions));
      appends.add(start(context, () -> store.append(event(eventId, partition))));
    }
    CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    assertThat(appends).allMatch(a -> a.join().stored());

    Shared shared = new Shared(total, System.nanoTime() + TimeUnit.SECONDS.toNanos(40));
    ClaimLoop a = new ClaimLoop("owner-a", vertx.getOrCreateContext(), shared);
    ClaimLoop b = new ClaimLoop("owner-b", vertx.getOrCreateContext(), shared);
    a.start();
    b.start();
    int byA = a.done.get(60, TimeUnit.SECONDS);
    int byB = b.done.get(60, TimeUnit.SECONDS);

    assertThat(shared.violations).as("partitions held by both owners at once, or events claimed twice").isEmpty();
    assertThat(byA + byB).isEqualTo(total);
    assertThat(shared.claimedBy).hasSize(total);
    assertThat(byA).as("owner-a took part").isPositive();
    assertThat(byB).as("owner-b took part").isPositive();
    assertThat(shared.contended.get()).as("claims that found every due partition held by the other owner")
        .isPositive();
    assertThat(count("SELECT COUNT(*) AS n FROM event_audit WHERE state = 'processing'"))
        .as("each event claimed once").isEqualTo(total);
    assertThat(count("SELECT COUNT(*) AS n FROM inbox_events WHERE status = 'processed' AND attempts = 1"))
        .isEqualTo(total);
  }

  private static final class Shared {
    final int total;
    final long deadline;
    final AtomicInteger claimed = new AtomicInteger();
    final AtomicInteger contended = new AtomicInteger();
    final Map<String, String> holders = new ConcurrentHashMap<>();
    final Map<Long, String> claimedBy = new ConcurrentHashMap<>();
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());

    Shared(int total, long deadline) {
      this.total = total;
      this.deadline = deadline;
    }
  }

  /** One owner's processing: claim, hold the partitions while working, finish, release, repeat. */
  private final class ClaimLoop {
    final String owner;
    final Context ctx;
    final Shared shared;
    final CompletableFuture<Integer> done = new CompletableFuture<>();
    int got;

    ClaimLoop(String owner, Context ctx, Shared shared) {
      this.owner = owner;
      this.ctx = ctx;
      this.shared = shared;
    }

    void start() {
      ctx.runOnContext(v -> next());
    }

    private void next() {
      if (shared.claimed.get() >= shared.total) {
        done.complete(got);
        return;
      }
      if (System.nanoTime() - shared.deadline > 0) {
        done.completeExceptionally(new AssertionError(owner + ": only " + shared.claimed.get() + " of "
            + shared.total + " events claimed in time"));
        return;
      }
      store.claim(owner, LEASE, 10).onComplete(ar -> {
        if (ar.failed()) {
          done.completeExceptionally(ar.cause());
          return;
        }
        List<InboxEvent> events = ar.result();
        if (events.isEmpty()) {
          if (shared.claimed.get() < shared.total) {
            shared.contended.incrementAndGet();
          }
          vertx.setTimer(2, id -> next());
          return;
        }
        Set<String> held = new TreeSet<>();
        events.forEach(e -> held.add(e.event().partitionKey()));
        for (String partition : held) {
          String other = shared.holders.putIfAbsent(partition, owner);
          if (other != null && !other.equals(owner)) {
            shared.violations.add(owner + " got events of " + partition + " while " + other + " held it");
          }
        }
        for (InboxEvent event : events) {
          String earlier = shared.claimedBy.putIfAbsent(event.inboxId(), owner);
          if (earlier != null) {
            shared.violations.add(owner + " claimed event " + event.inboxId() + " already claimed by " + earlier);
          }
        }
        got += events.size();
        shared.claimed.addAndGet(events.size());
        // Work a moment while holding the partitions, then finish every event and let go.
        vertx.setTimer(3, id -> Future.all(events.stream()
                .map(e -> store.inTransaction(tx -> InboxTransitions.finish(tx, e, owner, InboxStatus.PROCESSED, "done")))
                .toList())
            .compose(v -> {
              held.forEach(partition -> shared.holders.remove(partition, owner));
              return store.release(owner, held);
            })
            .onComplete(released -> {
              if (released.failed()) {
                done.completeExceptionally(released.cause());
              } else {
                next();
              }
            }));
      });
    }
  }
}
