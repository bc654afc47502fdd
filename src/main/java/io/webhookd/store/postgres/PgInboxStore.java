package io.webhookd.store.postgres;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.AppendResult;
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
 * group-committed ({@code executeBatch} in one transaction); claims lease partitions first, so two
 * instances never process one conversation at the same time, then take the due events of those
 * partitions with {@code FOR UPDATE SKIP LOCKED}.
 */
public final class PgInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(PgInboxStore.class);

  /** The event and its "received" audit entry in one statement; no row back means a duplicate. */
  private static final String INSERT_EVENT = """
      WITH stored AS (
        INSERT INTO inbox_events
          (source, event_id, event_type, occurred_at, partition_key, received_at, signature_scheme,
           body, status, attempts, due_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)
        ON CONFLICT (source, event_id) DO NOTHING
        RETURNING id, source, event_id, received_at, signature_scheme
      ), audited AS (
        INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
        SELECT id, source, event_id, received_at, 'received', 0, signature_scheme, $10 FROM stored
      )
      SELECT id FROM stored""";
  private static final String AUDIT_DUPLICATE = """
      INSERT INTO event_audit (inbox_id, source, event_id, at, state, attempt, detail, actor)
      SELECT (SELECT id FROM inbox_events WHERE source = $1 AND event_id = $2), $1, $2, $3, 'duplicate', 0, $4, $5""";
  /** Partitions with due work that are free, expired, or already ours; locked in key order. */
  private static final String LEASE_PARTITIONS = """
      WITH candidates AS (
        SELECT DISTINCT partition_key FROM (
          (SELECT partition_key FROM inbox_events
           WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2)
          UNION ALL
          (SELECT partition_key FROM inbox_events
           WHERE status = 'processing' AND lease_until < $1 LIMIT $2)
        ) due
        ORDER BY partition_key
      )
      INSERT INTO partition_leases (partition_key, owner, lease_until)
      SELECT partition_key, $3, $4 FROM candidates
      ON CONFLICT (partition_key) DO UPDATE
        SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
        WHERE partition_leases.owner = EXCLUDED.owner OR partition_leases.lease_until < $1
      RETURNING partition_key""";
  private static final String CLAIM_EVENTS = """
      WITH claimed AS (
        UPDATE inbox_events
        SET status = 'processing', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
        WHERE id IN (
          SELECT id FROM inbox_events
          WHERE partition_key = ANY($4)
            AND ((status = 'pending' AND due_at <= $3) OR (status = 'processing' AND lease_until < $3))
          ORDER BY due_at, id
          LIMIT $5
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
  private static final String RENEW_EVENTS =
      "UPDATE inbox_events SET lease_until = $1 WHERE status = 'processing' AND lease_owner = $2";
  private static final String RENEW_PARTITIONS =
      "UPDATE partition_leases SET lease_until = $1 WHERE owner = $2";
  private static final String RELEASE =
      "DELETE FROM partition_leases WHERE owner = $1 AND partition_key = ANY($2)";
  private static final String QUARANTINE = """
      INSERT INTO rejected_requests
        (body_sha256, reason, signature_scheme, content_type, first_seen_at, last_seen_at, times_seen, body)
      VALUES ($1, $2, $3, $4, $5, $5, 1, $6)
      ON CONFLICT (body_sha256) DO UPDATE
        SET last_seen_at = EXCLUDED.last_seen_at, times_seen = rejected_requests.times_seen + 1""";

  private final Pool pool;
  private final PgBounded db;
  private final PgBatchWriter<WebhookEvent, AppendResult> appends;
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
    this.appends = new PgBatchWriter<>(db, INSERT_EVENT, this::insertTuple,
        rows -> rows.size() > 0 ? new AppendResult(true, rows.iterator().next().getLong(0)) : AppendResult.DUPLICATE,
        Comparator.comparing(WebhookEvent::source).thenComparing(WebhookEvent::eventId),
        store.batchSize(), concurrentBatches, store.queueCapacity(), store.commitTimeout().toMillis());
  }

  /**
   * Migrates the schema (blocking, over JDBC) and opens the pool. Call from start-up code, never
   * from an event loop.
   */
  public static PgInboxStore open(Vertx vertx, Settings.Postgres settings, Settings.Store store, String instanceId) {
    PgConnectOptions connect = PgConnectOptions.fromUri(settings.url());
    migrate(connect);
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
    return new PgInboxStore(vertx, pool, settings, store, instanceId);
  }

  static void migrate(PgConnectOptions connect) {
    String jdbcUrl = "jdbc:postgresql://" + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    Flyway.configure()
        .dataSource(jdbcUrl, connect.getUser(), connect.getPassword())
        .locations("classpath:db/migration/postgresql")
        .load()
        .migrate();
  }

  private Tuple insertTuple(WebhookEvent event) {
    long now = System.currentTimeMillis();
    return Tuple.tuple(List.of(event.source(), event.eventId(), event.type(), event.occurredAt(),
        event.partitionKey(), event.receivedAt(), event.scheme(), Buffer.buffer(event.body()), now, instanceId));
  }

  @Override
  public void recordDuplicate(WebhookEvent event, String detectedBy) {
    Tuple args = Tuple.of(event.source(), event.eventId(), event.receivedAt(), "detected by " + detectedBy, instanceId);
    db.withConnection(operationTimeoutMillis, "duplicate audit", conn -> conn.preparedQuery(AUDIT_DUPLICATE).execute(args))
        .onFailure(e -> LOG.debug("auditing a duplicate failed: {}", e.getMessage()));
  }

  @Override
  public Future<AppendResult> append(WebhookEvent event) {
    return appends.write(event);
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
    return db.withTransaction(operationTimeoutMillis, "claim", conn -> {
      long now = System.currentTimeMillis();
      long until = now + leaseMillis;
      return conn.preparedQuery(LEASE_PARTITIONS).execute(Tuple.of(now, limit, owner, until))
          .compose(leased -> {
            if (leased.rowCount() == 0) {
              return Future.succeededFuture(List.<InboxEvent>of());
            }
            List<String> partitions = new ArrayList<>(leased.rowCount());
            leased.forEach(row -> partitions.add(row.getString(0)));
            return claimEvents(conn, owner, until, now, partitions, limit);
          });
    });
  }

  private static Future<List<InboxEvent>> claimEvents(
      SqlConnection conn, String owner, long until, long now, List<String> partitions, int limit) {
    return conn.preparedQuery(CLAIM_EVENTS)
        .execute(Tuple.tuple().addString(owner).addLong(until).addLong(now)
            .addArrayOfString(partitions.toArray(new String[0])).addInteger(limit))
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
    return db.withTransaction(operationTimeoutMillis, "transaction", conn -> work.apply(new PgTx(conn)));
  }

  @Override
  public Future<Void> check() {
    return db.withConnection(operationTimeoutMillis, "check", conn -> conn.query("SELECT 1").execute()).mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return appends.close().eventually(pool::close);
  }

  private static <T> Future<T> unavailable(Throwable failure) {
    return Future.failedFuture(new StorageUnavailableException("PostgreSQL write failed: " + failure.getMessage(), failure));
  }
}
