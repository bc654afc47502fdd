package io.webhookd.store.postgres;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.AppendResult;
import io.webhookd.store.FirstAttempt;
import io.webhookd.store.InboxStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a batch of appends in one statement. Events that come with an owner are stored claimed
 * by it where their conversation's partition can be leased, which the statement does too; events
 * that also come with a first attempt are processed in the same transaction, their partition
 * released again before it commits. Such an event is stored as processed straight away, the
 * outcome its attempt will most likely have: its row is written once, and only an attempt that
 * ends otherwise (ignored, or declined) changes it before the commit. Should any first attempt fail
 * (or wait too long for a lock), the transaction is rolled back and the batch written again
 * without attempts: every event of it stored, claimed where it can be, for the workers, which
 * record a failure as they do any other.
 */
final class PgAppends implements PgBatchWriter.BatchStatement<PgAppends.Append, AppendResult> {

  /**
   * An event to store; with an owner, stored claimed by it where it can be; with an attempt too,
   * processed in the same commit where it can be.
   */
  record Append(WebhookEvent event, String owner, long leaseMillis, FirstAttempt attempt) {

    static Append of(WebhookEvent event) {
      return new Append(event, null, 0, null);
    }

    Append withoutAttempt() {
      return new Append(event, owner, leaseMillis, null);
    }
  }

  /** Events in (source, event id) order, in every batch of every instance: row locks in one order. */
  static final Comparator<Append> LOCK_ORDER = Comparator
      .comparing((Append a) -> a.event().source()).thenComparing(a -> a.event().eventId());

  private static final Logger LOG = LoggerFactory.getLogger(PgAppends.class);
  /** Microseconds of handler work and a few round trips; just above the lock timeout, which fails first. */
  private static final long ATTEMPTS_BUDGET_MILLIS = 250;

  /**
   * A batch of events (one array per column, in lock order) and their audit entries in one
   * statement; an event without a row back is a duplicate, and the partitions leased come back as
   * rows of their own. An event with an owner ($11) is stored
   * claimed by it (attempt 1, leased until $12) when its conversation's partition can be leased:
   * free, expired or the owner's already, and nothing else of the conversation pending or in
   * processing that it would overtake; one with a first attempt as well ($13) is stored processed
   * instead, neither leased nor audited as claimed yet (its attempt's outcome is, see
   * {@link #FINISH_ATTEMPTS}). Partitions are leased in key order, as claims lease them; one
   * leased for an event that turns out a duplicate is released before the transaction ends.
   */
  private static final String INSERT_EVENTS = """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[],
                             $7::text[], $8::bytea[], $11::text[], $12::bigint[], $13::boolean[])
          WITH ORDINALITY AS t(source, event_id, event_type, occurred_at, partition_key, received_at,
                               signature_scheme, body, owner, lease_until, attempting, n)
      ), leased AS (
        INSERT INTO partition_leases (partition_key, owner, lease_until)
        SELECT DISTINCT ON (partition_key) partition_key, owner, lease_until FROM input
        WHERE owner IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM inbox_events e
                          WHERE e.partition_key = input.partition_key AND e.status IN ('pending', 'processing'))
        ORDER BY partition_key
        ON CONFLICT (partition_key) DO UPDATE
          SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
          WHERE partition_leases.owner = EXCLUDED.owner OR partition_leases.lease_until < $9
        RETURNING partition_key, owner
      ), stored AS (
        INSERT INTO inbox_events
          (source, event_id, event_type, occurred_at, partition_key, received_at, signature_scheme,
           body, status, attempts, due_at, updated_at, lease_owner, lease_until)
        SELECT source, event_id, event_type, occurred_at, partition_key, received_at, signature_scheme, body,
               CASE WHEN claimed AND attempting THEN 'processed' WHEN claimed THEN 'processing' ELSE 'pending' END,
               CASE WHEN claimed THEN 1 ELSE 0 END, $9, $9,
               CASE WHEN claimed AND NOT attempting THEN owner END, CASE WHEN claimed AND NOT attempting THEN lease_until END
        FROM (SELECT input.*, owner IS NOT NULL AND partition_key IN (SELECT partition_key FROM leased) AS claimed
              FROM input) AS i
        ORDER BY n
        ON CONFLICT (source, event_id) DO NOTHING
        RETURNING id, source, event_id, received_at, signature_scheme, lease_owner, status
      ), audited AS (
        INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
        SELECT id, source, event_id, received_at, 'received', 0, signature_scheme, $10 FROM stored
        UNION ALL
        SELECT id, source, event_id, $9, 'processing', 1, NULL, lease_owner FROM stored WHERE lease_owner IS NOT NULL
      )
      SELECT id, source, event_id, status <> 'pending' AS claimed, NULL AS leased, NULL AS owner FROM stored
      UNION ALL
      SELECT NULL, NULL, NULL, NULL, partition_key, owner FROM leased""";
  /**
   * The outcomes of first attempts, stored processed by {@link #INSERT_EVENTS}: the audit entries of
   * their claim and outcome, and the status of those that ended otherwise (ignored; declined,
   * which leaves the event claimed by its owner, leased until its $6).
   */
  private static final String FINISH_ATTEMPTS = """
      WITH outcome AS (
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
          AS t(id, source, event_id, owner, status, lease_until, detail)
      ), changed AS (
        UPDATE inbox_events e
        SET status = o.status, lease_owner = CASE WHEN o.status = 'processing' THEN o.owner END,
            lease_until = CASE WHEN o.status = 'processing' THEN o.lease_until END, updated_at = $9
        FROM outcome o
        WHERE e.id = o.id AND o.status <> 'processed'
      )
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      SELECT id, source, event_id, $8, 'processing', 1, NULL, owner FROM outcome
      UNION ALL
      SELECT id, source, event_id, $9, status, 1, detail, owner FROM outcome WHERE status <> 'processing'""";
  /**
   * A first attempt under way, of an event stored processed: its event, the owner of its claim, the
   * lease it would have had, and the attempt (null when it declined).
   */
  private record Attempted(long inboxId, WebhookEvent event, String owner, long leaseUntil,
      Future<FirstAttempt.Outcome> run) {
  }

  /** What the statement did: a result per append, in the batch's order, and the partitions it leased (to whom). */
  private record Inserted(List<AppendResult> results, Map<String, String> leased) {
  }

  private final Vertx vertx;
  private final String instanceId;

  PgAppends(Vertx vertx, String instanceId) {
    this.vertx = vertx;
    this.instanceId = instanceId;
  }

  @Override
  public Future<List<AppendResult>> write(SqlConnection conn, List<Append> batch) {
    if (batch.stream().allMatch(a -> a.owner() == null)) {
      return insert(conn, batch, System.currentTimeMillis()).map(Inserted::results);
    }
    if (batch.stream().allMatch(a -> a.attempt() == null)) {
      return claiming(conn, batch);
    }
    return claiming(conn, batch).recover(failure -> {
      LOG.debug("first attempts given up, the batch is stored for the workers: {}", failure.getMessage());
      return claiming(conn, batch.stream().map(Append::withoutAttempt).toList());
    });
  }

  /**
   * The statement, the first attempts and the release of the partitions no event of the batch keeps
   * in one transaction: until it commits, the leases it took are locked, so no claim (of this
   * instance or another) can take a partition over before it is released. With first attempts, a
   * contended lock is given up after {@link PgSharedTransaction#LOCK_TIMEOUT}: the sender waits for
   * this transaction, and the batch written again without them waits for locks only as long as
   * the transactions holding them last.
   */
  private Future<List<AppendResult>> claiming(SqlConnection conn, List<Append> batch) {
    boolean attempts = batch.stream().anyMatch(a -> a.attempt() != null);
    PgSharedTransaction shared = PgSharedTransaction.begin(conn, attempts);
    PgTx tx = new PgTx(conn, vertx.getOrCreateContext());
    long now = System.currentTimeMillis();
    Future<List<AppendResult>> done = insert(conn, batch, now).compose(inserted -> {
      List<AppendResult> results = new ArrayList<>(inserted.results());
      List<Attempted> attempted = new ArrayList<>();
      Set<String> kept = new HashSet<>();
      for (int i = 0; i < batch.size(); i++) {
        AppendResult result = results.get(i);
        Append append = batch.get(i);
        if (!result.claimed()) {
          continue;
        }
        Future<FirstAttempt.Outcome> run = append.attempt() == null ? null : attempt(append, result, tx);
        if (run == null) {
          kept.add(append.event().partitionKey());
        } else {
          results.set(i, new AppendResult(true, result.inboxId(), true, true));
        }
        if (append.attempt() != null) {
          attempted.add(new Attempted(result.inboxId(), append.event(), append.owner(), now + append.leaseMillis(), run));
        }
      }
      Map<String, String> released = new HashMap<>(inserted.leased());
      released.keySet().removeAll(kept);
      return withinBudget(Future.join(attempted.stream().map(Attempted::run).filter(Objects::nonNull).toList()))
          .compose(v -> Future.all(finish(conn, attempted, now), release(conn, released)))
          .map(results);
    });
    return shared.end(done, List.of(tx));
  }

  /**
   * The sender waits for the attempts: should they not all be done in time (a handler waiting for
   * something other than its statements), they are given up. Their transaction then refuses any
   * statement they still send (see PgSharedTransaction#end), so that nothing they do outlives it.
   */
  private Future<?> withinBudget(Future<?> attempts) {
    if (attempts.isComplete()) {
      return attempts;
    }
    // Not Future#timeout: on a future without a context (Future.join's) its timer fires on another
    // thread, and the ROLLBACK must go out on this one, after whatever the attempts sent.
    Promise<Object> bounded = Promise.promise();
    long timer = vertx.setTimer(ATTEMPTS_BUDGET_MILLIS, id -> bounded.tryFail(
        new IllegalStateException("first attempts not done within " + ATTEMPTS_BUDGET_MILLIS + " ms")));
    attempts.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        bounded.tryComplete();
      } else {
        bounded.tryFail(ar.cause());
      }
    });
    return bounded.future();
  }

  /** The append's first attempt, or null if it declines; a throw is a failure. */
  private static Future<FirstAttempt.Outcome> attempt(Append append, AppendResult result, PgTx tx) {
    try {
      return append.attempt().run(new InboxEvent(result.inboxId(), 1, append.event()), tx);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * The outcomes of the batch's first attempts, all in one statement: the audit entries and, where
   * an attempt did not end processed, the status, as {@link io.webhookd.store.InboxTransitions}
   * writes them one event at a time.
   *
   * @param claimedAt when the events were stored claimed
   */
  private static Future<?> finish(SqlConnection conn, List<Attempted> attempted, long claimedAt) {
    if (attempted.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = attempted.size();
    Long[] ids = new Long[n];
    String[] sources = new String[n];
    String[] eventIds = new String[n];
    String[] owners = new String[n];
    String[] statuses = new String[n];
    Long[] leaseUntil = new Long[n];
    String[] details = new String[n];
    for (int i = 0; i < n; i++) {
      Attempted a = attempted.get(i);
      FirstAttempt.Outcome outcome = a.run() == null ? null : a.run().result();
      ids[i] = a.inboxId();
      sources[i] = a.event().source();
      eventIds[i] = a.event().eventId();
      owners[i] = a.owner();
      statuses[i] = (outcome == null ? InboxStatus.PROCESSING : outcome.status()).dbValue();
      leaseUntil[i] = a.leaseUntil();
      details[i] = outcome == null ? null : outcome.detail();
    }
    Tuple args = Tuple.tuple().addArrayOfLong(ids).addArrayOfString(sources).addArrayOfString(eventIds)
        .addArrayOfString(owners).addArrayOfString(statuses).addArrayOfLong(leaseUntil).addArrayOfString(details)
        .addLong(claimedAt).addLong(System.currentTimeMillis());
    return conn.preparedQuery(FINISH_ATTEMPTS).execute(args);
  }

  /** Leases that no claimed event holds: those of processed events, and of duplicates. */
  private static Future<?> release(SqlConnection conn, Map<String, String> ownerByPartition) {
    Map<String, List<String>> byOwner = new HashMap<>();
    ownerByPartition.forEach((partition, owner) -> byOwner.computeIfAbsent(owner, o -> new ArrayList<>()).add(partition));
    List<Future<?>> deleted = new ArrayList<>();
    byOwner.forEach((owner, partitions) -> deleted.add(conn.preparedQuery(PgInboxStore.RELEASE)
        .execute(Tuple.tuple().addString(owner).addArrayOfString(partitions.toArray(new String[0])))));
    return Future.all(deleted);
  }

  private Future<Inserted> insert(SqlConnection conn, List<Append> batch, long now) {
    int n = batch.size();
    String[] sources = new String[n];
    String[] eventIds = new String[n];
    String[] types = new String[n];
    Long[] occurredAt = new Long[n];
    String[] partitions = new String[n];
    Long[] receivedAt = new Long[n];
    String[] schemes = new String[n];
    Buffer[] bodies = new Buffer[n];
    String[] owners = new String[n];
    Long[] leaseUntil = new Long[n];
    Boolean[] attempting = new Boolean[n];
    for (int i = 0; i < n; i++) {
      Append append = batch.get(i);
      WebhookEvent event = append.event();
      sources[i] = event.source();
      eventIds[i] = event.eventId();
      types[i] = event.type();
      occurredAt[i] = event.occurredAt();
      partitions[i] = event.partitionKey();
      receivedAt[i] = event.receivedAt();
      schemes[i] = event.scheme();
      bodies[i] = Buffer.buffer(event.body());
      owners[i] = append.owner();
      leaseUntil[i] = append.owner() == null ? null : now + append.leaseMillis();
      attempting[i] = append.attempt() != null;
    }
    Tuple args = Tuple.tuple().addArrayOfString(sources).addArrayOfString(eventIds).addArrayOfString(types)
        .addArrayOfLong(occurredAt).addArrayOfString(partitions).addArrayOfLong(receivedAt)
        .addArrayOfString(schemes).addArrayOfBuffer(bodies).addLong(now).addString(instanceId)
        .addArrayOfString(owners).addArrayOfLong(leaseUntil).addArrayOfBoolean(attempting);
    return conn.preparedQuery(INSERT_EVENTS).execute(args).map(rows -> {
      Map<String, AppendResult> stored = new HashMap<>(rows.rowCount() * 2);
      Map<String, String> leased = new HashMap<>();
      for (Row row : rows) {
        if (row.getValue(0) == null) {
          leased.put(row.getString(4), row.getString(5));
        } else {
          stored.put(row.getString(1) + '\u0000' + row.getString(2),
              new AppendResult(true, row.getLong(0), row.getBoolean(3)));
        }
      }
      // The same event twice in one batch: the first is stored, the second is its duplicate.
      List<AppendResult> results = new ArrayList<>(n);
      for (Append append : batch) {
        AppendResult result = stored.remove(append.event().source() + '\u0000' + append.event().eventId());
        results.add(result != null ? result : AppendResult.DUPLICATE);
      }
      return new Inserted(results, leased);
    });
  }
}
