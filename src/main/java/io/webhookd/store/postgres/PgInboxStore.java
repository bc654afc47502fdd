package io.webhookd.store.postgres;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.AppendResult;
import io.webhookd.store.BatchTimings;
import io.webhookd.store.FirstAttempt;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxStore;
import io.webhookd.store.RejectedRequest;
import io.webhookd.store.StorageUnavailableException;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared inbox on PostgreSQL, for several instances at once. Appends are
 * group-committed (a batch in one statement); claims lease partitions first, so two
 * instances never process one conversation at the same time, then take the due events of those
 * partitions with {@code FOR UPDATE SKIP LOCKED}.
 */
public final class PgInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(PgInboxStore.class);

  private static final String AUDIT_DUPLICATE = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      SELECT (SELECT id FROM inbox_events WHERE source = $1 AND event_id = $2), $1, $2, $3, 'duplicate', 0, $4, $5""";
  /**
   * One statement: take the oldest due events (up to $4), lease their partitions where free,
   * expired or already ours (locked in key order), then claim those of the events whose partition
   * was leased with {@code FOR UPDATE SKIP LOCKED}, and audit the claims. Its work is bounded by
   * the limit, however many events wait. $1 owner, $2 lease end, $3 now, $4 limit.
   */
  private static final String CLAIM = """
      WITH due AS (
        (SELECT id, partition_key FROM inbox_events
         WHERE status = 'pending' AND due_at <= $3 ORDER BY due_at, id LIMIT $4)
        UNION ALL
        (SELECT id, partition_key FROM inbox_events
         WHERE status = 'processing' AND lease_until < $3 LIMIT $4)
      ), candidates AS (
        SELECT DISTINCT partition_key FROM due ORDER BY partition_key
      ), leased AS (
        INSERT INTO partition_leases (partition_key, owner, lease_until)
        SELECT partition_key, $1, $2 FROM candidates
        ON CONFLICT (partition_key) DO UPDATE
          SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
          WHERE partition_leases.owner = EXCLUDED.owner OR partition_leases.lease_until < $3
        RETURNING partition_key
      ), claimed AS (
        UPDATE inbox_events
        SET status = 'processing', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
        WHERE id IN (
          SELECT id FROM inbox_events
          WHERE id IN (SELECT id FROM due WHERE partition_key IN (SELECT partition_key FROM leased))
            AND ((status = 'pending' AND due_at <= $3) OR (status = 'processing' AND lease_until < $3))
          ORDER BY due_at, id
          LIMIT $4
          FOR UPDATE SKIP LOCKED)
        RETURNING id, attempts, source, event_id, event_type, occurred_at, partition_key, received_at,
                  signature_scheme, body
      ), audited AS (
        INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, actor)
        SELECT id, source, event_id, $3, 'processing', attempts, $1 FROM claimed
      )
      SELECT * FROM claimed""";
  private static final String ABANDON = """
      UPDATE inbox_events SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
        due_at = $1, lease_owner = NULL, lease_until = NULL,
        updated_at = $2
      WHERE id = $3 AND status = 'processing' AND lease_owner = $4""";
  /**
   * Never waits for a row lock: a group of handler transactions holds the rows of the events it is
   * finishing until it commits, and a renewal that locked some claims and then waited for those
   * would deadlock with the group's finishing of the ones it locked. A claim whose row is locked is
   * being finished (or its group fails and the next renewal, a third of a lease later, extends it).
   */
  private static final String RENEW_EVENTS = """
      UPDATE inbox_events SET lease_until = $1
      WHERE id IN (SELECT id FROM inbox_events WHERE status = 'processing' AND lease_owner = $2
                   FOR UPDATE SKIP LOCKED)""";
  /**
   * Only partitions in which the owner holds a claimed event: a claim may lease partitions whose
   * events it then did not take (its limit, or rows another claim had locked), and an owner that
   * does not know it holds those must let them lapse rather than keep them from everyone else.
   */
  private static final String RENEW_PARTITIONS = """
      UPDATE partition_leases SET lease_until = $1
      WHERE owner = $2
        AND partition_key IN (SELECT partition_key FROM inbox_events WHERE status = 'processing' AND lease_owner = $2)""";
  static final String RELEASE =
      "DELETE FROM partition_leases WHERE owner = $1 AND partition_key = ANY($2)";
  private static final String QUARANTINE = """
      INSERT INTO rejected_requests
        (body_sha256, reason, signature_scheme, content_type, first_seen_at, last_seen_at, times_seen, body)
      VALUES ($1, $2, $3, $4, $5, $5, 1, $6)
      ON CONFLICT (body_sha256) DO UPDATE
        SET last_seen_at = EXCLUDED.last_seen_at, times_seen = rejected_requests.times_seen + 1""";

  private final Pool pool;
  private final PgBounded db;
  private final PgBatchWriter<PgAppends.Append, AppendResult> appends;
  private final PgTransactionGroups transactions;
  private final String instanceId;
  /** For what the sender waits on (appends, quarantine): its answer must come in time. */
  private final long commitTimeoutMillis;
  /** For everything else: claims, leases, handler transactions, status and readiness. */
  private final long operationTimeoutMillis;

  private PgInboxStore(Vertx vertx, Pool pool, Settings.Postgres settings, Settings.Store store, String instanceId) {
    this.pool = pool;
    this.db = new PgBounded(vertx, pool);
    this.instanceId = instanceId;
    this.commitTimeoutMillis = store.commitTimeout().toMillis();
    this.operationTimeoutMillis = settings.operationTimeout().toMillis();
    int concurrentBatches = Math.max(1, settings.poolSize() / 2);
    this.appends = new PgBatchWriter<>(db, new PgAppends(vertx, instanceId), PgAppends.LOCK_ORDER,
        store.batchSize(), concurrentBatches, store.queueCapacity(), store.commitTimeout().toMillis());
    this.transactions = new PgTransactionGroups(vertx, db, operationTimeoutMillis);
  }

  /**
   * The longest statement the client keeps prepared. Its default (2,048 characters) is shorter than
   * the append's statement, which would then be parsed again for every batch.
   */
  static final int STATEMENT_CACHE_SQL_LIMIT = 8_192;

  /**
   * Migrates the schema (blocking, over JDBC) and opens the pool. Call from start-up code, never
   * from an event loop.
   */
  public static PgInboxStore open(Vertx vertx, Settings.Postgres settings, Settings.Store store, String instanceId) {
    PgConnectOptions connect = PgConnectOptions.fromUri(settings.url());
    migrate(connect);
    // Named statements, parsed once per connection rather than on every execution: the same dozen
    // statements run for every event.
    connect.setCachePreparedStatements(true);
    connect.setPreparedStatementCacheSqlLimit(STATEMENT_CACHE_SQL_LIMIT);
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions()
            .setMaxSize(settings.poolSize())
            .setMaxWaitQueueSize(10_000)
            .setConnectionTimeout((int) store.commitTimeout().toMillis())
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
        .connectingTo(connect)
        .using(vertx)
        .build();
    LOG.info("inbox store: PostgreSQL {}:{}/{}", connect.getHost(), connect.getPort(), connect.getDatabase());
    warnWithoutAutovacuum(pool);
    return new PgInboxStore(vertx, pool, settings, store, instanceId);
  }

  /**
   * The inbox leaves dead rows behind at the rate events arrive; without autovacuum claims slow down
   * as they pile up (and plans keep the statistics of an empty table). Said once, at start-up.
   */
  private static void warnWithoutAutovacuum(Pool pool) {
    pool.query("SHOW autovacuum").execute()
        .onSuccess(rows -> {
          if (rows.size() == 1 && "off".equals(rows.iterator().next().getString(0))) {
            LOG.warn("PostgreSQL runs with autovacuum off: the inbox's dead rows pile up and claims slow down"
                + " with them; turn it on, or VACUUM ANALYZE inbox_events and partition_leases regularly");
          }
        })
        .onFailure(e -> LOG.debug("could not read the autovacuum setting: {}", e.getMessage()));
  }

  static void migrate(PgConnectOptions connect) {
    String jdbcUrl = "jdbc:postgresql://" + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    Flyway.configure()
        .dataSource(jdbcUrl, connect.getUser(), connect.getPassword())
        .locations("classpath:db/migration/postgresql")
        .load()
        .migrate();
  }

  /** Where the appends' group commit reports where its time goes (metrics); nowhere until this is called. */
  public void reportTimings(BatchTimings timings) {
    appends.reportTimings(timings);
  }

  @Override
  public void recordDuplicate(WebhookEvent event, String detectedBy) {
    Tuple args = Tuple.of(event.source(), event.eventId(), event.receivedAt(), "detected by " + detectedBy, instanceId);
    db.withConnection(operationTimeoutMillis, "duplicate audit", conn -> conn.preparedQuery(AUDIT_DUPLICATE).execute(args))
        .onFailure(e -> LOG.debug("auditing a duplicate failed: {}", e.getMessage()));
  }

  @Override
  public Future<AppendResult> append(WebhookEvent event) {
    return appends.write(PgAppends.Append.of(event));
  }

  /**
   * Claimed in the commit that stores it when its conversation's partition is free (or already
   * this owner's) and nothing else of the conversation waits or is in processing.
   */
  @Override
  public Future<AppendResult> appendClaimed(WebhookEvent event, String owner, long leaseMillis) {
    return appends.write(new PgAppends.Append(event, owner, leaseMillis, null));
  }

  /**
   * Claimed as above, and processed in the same transaction: the attempts of a batch run together,
   * their statements pipelined on its connection. Should one fail, the batch is stored again without
   * attempts and its events go to the workers; {@link FirstAttempt#failed} is never called.
   */
  @Override
  public Future<AppendResult> appendClaimed(WebhookEvent event, String owner, long leaseMillis, FirstAttempt attempt) {
    return appends.write(new PgAppends.Append(event, owner, leaseMillis, attempt));
  }

  @Override
  public Future<Void> quarantine(RejectedRequest request) {
    Tuple args = Tuple.tuple(Arrays.asList(request.bodySha256(), request.reason(), request.scheme(),
        request.contentType(), request.receivedAt(), Buffer.buffer(request.body())));
    return db.withConnection(commitTimeoutMillis, "quarantine", conn -> conn.preparedQuery(QUARANTINE).execute(args))
        .<Void>mapEmpty()
        .recover(PgInboxStore::unavailable);
  }

  @Override
  public Future<List<InboxEvent>> claim(String owner, long leaseMillis, int limit) {
    // In a transaction although it is one statement: should the answer be lost (the connection
    // froze), COMMIT is never sent and the claim rolls back, rather than holding its events
    // unprocessed until their lease expires. BEGIN shares the statement's round trip.
    return db.withTransaction(operationTimeoutMillis, "claim", conn -> {
      long now = System.currentTimeMillis();
      return conn.preparedQuery(CLAIM)
          .execute(Tuple.of(owner, now + leaseMillis, now, limit))
          .map(rows -> {
            List<InboxEvent> events = new ArrayList<>(rows.rowCount());
            for (Row row : rows) {
              events.add(new InboxEvent(row.getLong(0), row.getInteger(1), new WebhookEvent(
                  row.getString(2), row.getString(3), row.getString(4), row.getLong(5), row.getString(6),
                  row.getLong(7), row.getString(8), row.getBuffer(9).getBytes())));
            }
            events.sort(Comparator.comparingLong(InboxEvent::inboxId));
            return events;
          });
    });
  }

  @Override
  public Future<Void> abandon(long inboxId, String owner, long dueAt) {
    Tuple args = Tuple.of(dueAt, System.currentTimeMillis(), inboxId, owner);
    return db.withConnection(operationTimeoutMillis, "abandon", conn -> conn.preparedQuery(ABANDON).execute(args))
        .mapEmpty();
  }

  @Override
  public Future<Void> renew(String owner, long leaseMillis) {
    Tuple args = Tuple.of(System.currentTimeMillis() + leaseMillis, owner);
    return db.withConnection(operationTimeoutMillis, "renew", conn -> conn.preparedQuery(RENEW_EVENTS).execute(args)
            .compose(v -> conn.preparedQuery(RENEW_PARTITIONS).execute(args)))
        .mapEmpty();
  }

  @Override
  public Future<Void> release(String owner, Collection<String> partitionKeys) {
    Tuple args = Tuple.tuple().addString(owner).addArrayOfString(partitionKeys.toArray(new String[0]));
    return db.withConnection(operationTimeoutMillis, "release", conn -> conn.preparedQuery(RELEASE).execute(args))
        .mapEmpty();
  }

  @Override
  public Future<InboxStatus> status(String source, String eventId) {
    return db.withConnection(operationTimeoutMillis, "status", conn -> conn
            .preparedQuery("SELECT status FROM inbox_events WHERE source = $1 AND event_id = $2")
            .execute(Tuple.of(source, eventId)))
        .map(rows -> rows.rowCount() == 0 ? null : InboxStatus.fromDb(rows.iterator().next().getString(0)));
  }

  @Override
  public <T> Future<T> inTransaction(Function<Tx, Future<T>> work) {
    // A transaction that overruns fails like any lost connection: the handler's event is retried,
    // never taken as processed.
    return transactions.run(work);
  }

  @Override
  public Future<Void> check() {
    return db.withConnection(operationTimeoutMillis, "check", conn -> conn.query("SELECT 1").execute()).mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return appends.close().eventually(() -> {
      transactions.close();
      return pool.close();
    });
  }

  private static <T> Future<T> unavailable(Throwable failure) {
    return Future.failedFuture(new StorageUnavailableException("PostgreSQL write failed: " + failure.getMessage(), failure));
  }
}
