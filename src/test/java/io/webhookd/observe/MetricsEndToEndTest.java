package io.webhookd.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.event.EventTypes;
import io.webhookd.observe.ObserveHandlers.FailsOnce;
import io.webhookd.observe.ObserveHandlers.Permanent;
import io.webhookd.observe.ObserveHandlers.Recording;
import io.webhookd.observe.ObservedServer.Reply;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.testing.Poll;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestServices;
import io.webhookd.testing.TestSigner;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics end to end: the service runs in this JVM on SQLite in a temporary directory, gets a
 * scripted set of real signed (and badly signed) HTTP requests and runs handlers that succeed, fail
 * once or fail for good; then {@code /metrics} is scraped and every count is checked exactly, series
 * by series, so that a missing, extra or double count fails. The store's own series are checked on
 * PostgreSQL too.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsEndToEndTest {

  private static final String SOURCE = "openphone";

  private static final List<String> SQLITE_HISTOGRAMS = List.of("webhook_sqlite_wait_seconds",
      "webhook_sqlite_batch_seconds", "webhook_sqlite_batch_tasks", "webhook_sqlite_sync_seconds");
  private static final List<String> PG_HISTOGRAMS = List.of("webhook_pg_append_wait_seconds",
      "webhook_pg_append_batch_seconds", "webhook_pg_append_batch_tasks");

  @TempDir
  Path dir;

  private ObservedServer server;
  /** The PostgreSQL test's own database, dropped once its server has stopped. */
  private PrivateDatabase database;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (database != null) {
      database.close();
    }
  }

  private static Map<String, String> settings() {
    return Map.of(
        "WEBHOOKD_PROCESS_RETRY_BASE", "10ms",
        "WEBHOOKD_PROCESS_RETRY_CAP", "50ms",
        "WEBHOOKD_PROCESS_MAX_RETRIES", "3",
        // Critical events are answered once processed; a slow machine must not turn that into "queued".
        "WEBHOOKD_PROCESS_CRITICAL_BUDGET", "8s",
        "WEBHOOKD_HTTP_MAX_BODY_SIZE", "4KiB");
  }

  private static HandlerRegistry handlers() {
    return new HandlerRegistry()
        .register("message.delivered", new Recording())
        .register("message.received", new Recording())
        .register("call.completed", new FailsOnce())
        .register("contact.updated", new Permanent());
    // task.created has no handler (and is no type the service knows): ignored, type "unknown".
  }

  @Test
  void everyCountMatchesTheScriptedTraffic() throws Exception {
    server = ObservedServer.start(dir, settings(), handlers());

    // ---- accepted: 9 distinct events of 5 types (one of them unknown to the service) ----------
    String[] delivered = {ObserveBodies.newId("d1"), ObserveBodies.newId("d2"), ObserveBodies.newId("d3")};
    String received = ObserveBodies.newId("r1");
    String call = ObserveBodies.newId("c1");
    String[] contacts = {ObserveBodies.newId("k1"), ObserveBodies.newId("k2")};
    String[] tasks = {ObserveBodies.newId("t1"), ObserveBodies.newId("t2")};
    for (String id : delivered) {
      expect(server.post(ObserveBodies.delivered(id)), 200, "queued");
    }
    expect(server.post(ObserveBodies.received(received)), 200, "processed");
    expect(server.post(ObserveBodies.callCompleted(call)), 200, "queued");
    for (String id : contacts) {
      expect(server.post(ObserveBodies.contactUpdated(id)), 200, "queued");
    }
    for (String id : tasks) {
      expect(server.post(ObserveBodies.taskCreated(id)), 200, "queued");
    }

    // ---- duplicates answered by the in-process (Caffeine) tier: 3 -----------------------------
    expect(server.post(ObserveBodies.delivered(delivered[0])), 200, "duplicate_ignored");
    expect(server.post(ObserveBodies.delivered(delivered[0])), 200, "duplicate_ignored");
    expect(server.post(ObserveBodies.taskCreated(tasks[0])), 200, "duplicate_ignored");

    // ---- refused: 7 ---------------------------------------------------------------------------
    long now = System.currentTimeMillis();
    byte[] someEvent = ObserveBodies.delivered(ObserveBodies.newId("bad"));
    expect(server.postSignedWith(TestSigner.newOpenPhoneSecret(), someEvent, now), 401, "invalid_signature");
    expect(server.postUnsigned(someEvent), 401, "invalid_signature");
    expect(server.postSignedAt(someEvent, now - TimeUnit.MINUTES.toMillis(10)), 401, "stale_timestamp");
    expect(server.postSignedAt(someEvent, now + TimeUnit.MINUTES.toMillis(10)), 401, "stale_timestamp");
    expect(server.post("{\"id\": \"EVnot-json\", ".getBytes(StandardCharsets.UTF_8)), 400, "invalid_json");
    expect(server.post("{\"id\": \"EVno-type\"}".getBytes(StandardCharsets.UTF_8)), 400, "invalid_envelope");
    byte[] oversized = new byte[8 * 1024];
    Arrays.fill(oversized, (byte) ' ');
    expect(server.post(oversized), 413, "payload_too_large");

    // ---- processing: 3 + 1 processed, 1 retried then processed, 2 dead, 2 ignored --------------
    System.gc(); // the GC pause timer is registered at the first collection; the dashboard shows it
    Scrape scrape = server.awaitMetrics("10 processing outcomes and 2 dead letters counted",
        s -> s.sum("webhook_processed_total") >= 10 && Double.valueOf(2).equals(s.value("webhook_dlq_size"))
            && Double.valueOf(0).equals(s.value("webhook_queue_size")));

    assertThat(scrape.series("webhook_received_total", "type", "source")).as("webhook_received_total")
        .isEqualTo(expected(
            "source=openphone,type=message.delivered", 5, // 3 new + 2 duplicates
            "source=openphone,type=message.received", 1,
            "source=openphone,type=call.completed", 1,
            "source=openphone,type=contact.updated", 2,
            "source=openphone,type=unknown", 3)); // task.created: 2 new + 1 duplicate
    assertThat(scrape.series("webhook_duplicates_total", "tier")).as("webhook_duplicates_total")
        .isEqualTo(expected("tier=caffeine", 3));
    assertThat(scrape.series("webhook_rejected_total", "reason")).as("webhook_rejected_total")
        .isEqualTo(expected(
            "reason=invalid_signature", 2,
            "reason=stale_timestamp", 2,
            "reason=invalid_json", 1,
            "reason=invalid_envelope", 1,
            "reason=payload_too_large", 1));
    assertThat(scrape.series("webhook_processed_total", "type", "status")).as("webhook_processed_total")
        .isEqualTo(expected(
            "status=processed,type=message.delivered", 3,
            "status=processed,type=message.received", 1,
            "status=retry,type=call.completed", 1,
            "status=processed,type=call.completed", 1,
            "status=dead,type=contact.updated", 2,
            "status=ignored,type=unknown", 2));
    assertThat(scrape.series("webhook_retries_total", "type")).as("webhook_retries_total")
        .isEqualTo(expected("type=call.completed", 1));
    assertThat(scrape.series("webhook_processing_seconds_count", "type")).as("webhook_processing_seconds_count")
        .isEqualTo(expected(
            "type=message.delivered", 3,
            "type=message.received", 1,
            "type=call.completed", 2,
            "type=contact.updated", 2,
            "type=unknown", 2));
    // Every 200 answer is timed: 9 new events and 3 duplicates; refusals are not acknowledgements.
    assertThat(scrape.value("webhook_ack_seconds_count")).as("webhook_ack_seconds_count").isEqualTo(12.0);
    assertThat(scrape.value("webhook_dlq_size")).as("webhook_dlq_size").isEqualTo(2.0);
    assertThat(scrape.value("webhook_queue_size")).as("webhook_queue_size").isEqualTo(0.0);
    // The SQLite writer's stages: each of the 9 events stored waited for a batch, and batches were
    // committed and synced (the writer also runs processing and the backlog readings).
    assertThat(scrape.value("webhook_sqlite_wait_seconds_count")).as("webhook_sqlite_wait_seconds_count")
        .isGreaterThanOrEqualTo(9.0);
    assertThat(scrape.value("webhook_sqlite_batch_tasks_sum")).as("webhook_sqlite_batch_tasks_sum")
        .isGreaterThanOrEqualTo(9.0);
    assertThat(scrape.value("webhook_sqlite_batch_seconds_count")).as("webhook_sqlite_batch_seconds_count")
        .isGreaterThanOrEqualTo(1.0);
    assertThat(scrape.value("webhook_sqlite_sync_seconds_count")).as("webhook_sqlite_sync_seconds_count")
        .isGreaterThanOrEqualTo(1.0);
    assertHistogramsConsistent(scrape, SQLITE_HISTOGRAMS);
    assertLabelsBounded(scrape);

    // The JVM and Vert.x report too.
    assertThat(scrape.names()).as("JVM metrics").anyMatch(n -> n.startsWith("jvm_memory_used_bytes"))
        .anyMatch(n -> n.startsWith("jvm_gc_")).anyMatch(n -> n.startsWith("jvm_threads_"));
    assertThat(scrape.names()).as("Vert.x metrics")
        .anyMatch(n -> n.startsWith("vertx_http_server_requests_total"))
        .anyMatch(n -> n.startsWith("vertx_http_server_response_time_seconds"));
    // Vert.x saw every webhook request (the only POSTs; the management listener gets GETs): 12
    // accepted and 7 refused.
    assertThat(webhookRequestsByCode(scrape)).as("vertx_http_server_requests_total{method=POST}, by code")
        .isEqualTo(expected("code=200", 12, "code=400", 2, "code=401", 4, "code=413", 1));

    promtoolAccepts(scrape.text());
    // Every metric the dashboard and the alert rules query is served; the critical dead-letter
    // counter exists once a critical event is dead-lettered (MonitoringFilesTest checks its name).
    MonitoringFiles.assertReferencedMetricsExist(scrape, Set.of("webhook_dlq_alerts_total",
        "webhook_pg_append_wait_seconds_bucket", "webhook_pg_append_batch_seconds_bucket"));

    // ---- restart: the in-process tier is empty, the store still knows every event ---------------
    server.restart(handlers());
    expect(server.post(ObserveBodies.delivered(delivered[1])), 200, "duplicate_ignored");
    expect(server.post(ObserveBodies.taskCreated(tasks[1])), 200, "duplicate_ignored");
    Scrape afterRestart = server.awaitMetrics("the dead letters read from the store after the restart",
        s -> Double.valueOf(2).equals(s.value("webhook_dlq_size")));
    assertThat(afterRestart.series("webhook_duplicates_total", "tier")).as("webhook_duplicates_total after restart")
        .isEqualTo(expected("tier=store", 2));
    assertThat(afterRestart.series("webhook_received_total", "type", "source"))
        .as("webhook_received_total after restart")
        .isEqualTo(expected("source=openphone,type=message.delivered", 1, "source=openphone,type=unknown", 1));
    assertThat(afterRestart.series("webhook_rejected_total", "reason")).as("no refusals after restart").isEmpty();
    assertThat(afterRestart.series("webhook_processed_total", "type", "status")).as("nothing processed again")
        .isEmpty();
    assertThat(afterRestart.value("webhook_ack_seconds_count")).isEqualTo(2.0);
    assertThat(afterRestart.value("webhook_queue_size")).isEqualTo(0.0);
  }

  /** The shared Redis tier answers for another instance's (here: the previous run's) events. */
  @Test
  void aDuplicateKnownOnlyToRedisIsCountedInTheRedisTier() throws Exception {
    String redis = TestServices.redis();
    server = ObservedServer.start(dir, Map.of("WEBHOOKD_REDIS_URL", redis), handlers());
    String id = ObserveBodies.newId("redis");
    expect(server.post(ObserveBodies.delivered(id)), 200, "queued");
    expect(server.post(ObserveBodies.delivered(id)), 200, "duplicate_ignored");
    // Redis learns the key in the background once the store committed it.
    Poll.until("Redis to know the event", ObservedServer.WAIT,
        () -> redisHas(redis, "webhookd:seen:openphone:" + id), known -> known);
    server.restart(handlers());
    expect(server.post(ObserveBodies.delivered(id)), 200, "duplicate_ignored");
    Scrape scrape = server.metrics();
    assertThat(scrape.series("webhook_duplicates_total", "tier")).as("webhook_duplicates_total after restart")
        .isEqualTo(expected("tier=redis", 1));
    assertThat(scrape.series("webhook_received_total", "type", "source"))
        .isEqualTo(expected("source=openphone,type=message.delivered", 1));
  }

  /**
   * On PostgreSQL the appends' group commit reports as the SQLite writer does: every event stored
   * waited for a batch, and every batch is timed with its size; no SQLite series appear.
   */
  @Test
  void postgresAppendBatchesAreTimedAndCounted() throws Exception {
    database = PrivateDatabase.create("metrics");
    server = ObservedServer.start(dir, Map.of("WEBHOOKD_PG_URL", database.url()), handlers());
    for (int i = 0; i < 5; i++) {
      expect(server.post(ObserveBodies.delivered(ObserveBodies.newId("pg" + i))), 200, "queued");
    }
    Scrape scrape = server.metrics();
    assertThat(scrape.value("webhook_pg_append_wait_seconds_count")).as("webhook_pg_append_wait_seconds_count")
        .isEqualTo(5.0);
    assertThat(scrape.value("webhook_pg_append_batch_tasks_sum")).as("webhook_pg_append_batch_tasks_sum")
        .isEqualTo(5.0);
    assertThat(scrape.value("webhook_pg_append_batch_seconds_count")).as("webhook_pg_append_batch_seconds_count")
        .isEqualTo(scrape.value("webhook_pg_append_batch_tasks_count")).isBetween(1.0, 5.0);
    assertThat(scrape.names()).as("SQLite's series on PostgreSQL").noneMatch(name -> name.startsWith("webhook_sqlite_"));
    assertHistogramsConsistent(scrape, PG_HISTOGRAMS);
    Set<String> dashboard = new TreeSet<>();
    MonitoringFiles.dashboardExpressions().forEach(expr -> dashboard.addAll(MonitoringFiles.metricNames(expr)));
    assertThat(dashboard).as("PostgreSQL's series on the dashboard")
        .contains("webhook_pg_append_wait_seconds_bucket", "webhook_pg_append_batch_seconds_bucket");
    assertThat(scrape.names()).containsAll(dashboard.stream().filter(name -> name.startsWith("webhook_pg_")).toList());
    assertLabelsBounded(scrape);
    promtoolAccepts(scrape.text());
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** {@code EXISTS key} on the Redis at {@code url}, in RESP over a plain socket. */
  static boolean redisHas(String url, String key) throws Exception {
    URI uri = URI.create(url);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort()), 2_000);
      socket.setSoTimeout(2_000);
      byte[] k = key.getBytes(StandardCharsets.UTF_8);
      String command = "*2\r\n$6\r\nEXISTS\r\n$" + k.length + "\r\n" + key + "\r\n";
      socket.getOutputStream().write(command.getBytes(StandardCharsets.UTF_8));
      byte[] answer = new byte[16];
      int n = socket.getInputStream().read(answer);
      return n > 0 && new String(answer, 0, n, StandardCharsets.US_ASCII).startsWith(":1");
    }
  }

  static void expect(Reply reply, int status, String code) {
    assertThat(reply.status()).as("status of %s", reply).isEqualTo(status);
    assertThat(reply.code()).as("code of %s", reply).isEqualTo(code);
  }

  /** {@code key, count, key, count, ...} as the map {@link Scrape#series} returns. */
  static Map<String, Double> expected(Object... keysAndCounts) {
    Map<String, Double> map = new TreeMap<>();
    for (int i = 0; i < keysAndCounts.length; i += 2) {
      map.put((String) keysAndCounts[i], ((Number) keysAndCounts[i + 1]).doubleValue());
    }
    return map;
  }

  /** Each histogram's +Inf bucket equals its count, and buckets never decrease. */
  static void assertHistogramsConsistent(Scrape scrape, List<String> storeHistograms) {
    List<String> families = new ArrayList<>(List.of("webhook_ack_seconds", "webhook_processing_seconds"));
    families.addAll(storeHistograms);
    for (String family : families) {
      assertThat(scrape.type(family)).as("# TYPE of %s", family).isEqualTo("histogram");
      Map<String, Double> counts = scrape.series(family + "_count", "type");
      counts.forEach((key, count) -> {
        Map<String, String> labels = key.equals("type=") ? Map.of() : Map.of("type", key.substring("type=".length()));
        Map<String, String> inf = new LinkedHashMap<>(labels);
        inf.put("le", "+Inf");
        assertThat(scrape.value(family + "_bucket", inf)).as("%s_bucket{le=+Inf} of %s", family, key)
            .isEqualTo(count);
        List<Double> cumulative = scrape.samples().stream()
            .filter(s -> s.name().equals(family + "_bucket") && s.labels().entrySet().containsAll(labels.entrySet()))
            .sorted((a, b) -> Double.compare(le(a), le(b)))
            .map(Scrape.Sample::value).toList();
        assertThat(cumulative).as("buckets of %s %s", family, key).isSorted();
      });
    }
  }

  private static double le(Scrape.Sample sample) {
    String le = sample.labels().get("le");
    return "+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
  }

  /** No webhook_* series carries a type the service does not know, nor an unexpected label. */
  static void assertLabelsBounded(Scrape scrape) {
    Set<String> types = new HashSet<>(EventTypes.all());
    types.add("unknown");
    Set<String> reasons = Set.of("invalid_signature", "stale_timestamp", "invalid_json", "invalid_envelope",
        "payload_too_large", "storage_unavailable", "request_timeout", "too_many_connections", "https_required",
        "rate_limited");
    Set<String> allowedLabels = Set.of("type", "source", "status", "reason", "tier", "scheme", "le");
    for (Scrape.Sample sample : scrape.samples()) {
      if (!sample.name().startsWith("webhook_")) {
        continue;
      }
      assertThat(allowedLabels).as("labels of %s", sample).containsAll(sample.labels().keySet());
      if (sample.labels().containsKey("type")) {
        assertThat(types).as("type label of %s", sample).contains(sample.labels().get("type"));
      }
      if (sample.labels().containsKey("reason")) {
        assertThat(reasons).as("reason label of %s", sample).contains(sample.labels().get("reason"));
      }
      if (sample.labels().containsKey("tier")) {
        assertThat(Set.of("caffeine", "redis", "store")).as("tier of %s", sample).contains(sample.labels().get("tier"));
      }
      if (sample.labels().containsKey("status")) {
        assertThat(Set.of("processed", "ignored", "retry", "dead")).as("status of %s", sample)
            .contains(sample.labels().get("status"));
      }
      if (sample.labels().containsKey("scheme")) {
        assertThat(Set.of("openphone", "standard-webhooks", "seed")).as("scheme of %s", sample)
            .contains(sample.labels().get("scheme"));
      }
      if (sample.labels().containsKey("source")) {
        assertThat(sample.labels().get("source")).isEqualTo(SOURCE);
      }
    }
  }

  private static Map<String, Double> webhookRequestsByCode(Scrape scrape) {
    Map<String, Double> byCode = new TreeMap<>();
    for (Scrape.Sample sample : scrape.samples()) {
      if (sample.name().equals("vertx_http_server_requests_total") && "POST".equals(sample.labels().get("method"))) {
        byCode.merge("code=" + sample.labels().get("code"), sample.value(), Double::sum);
      }
    }
    return byCode;
  }

  /**
   * Lint findings of {@code promtool check metrics} that are accepted: names Micrometer's own JVM and
   * system binders choose (abbreviated units, a gauge ending in _count). Nothing of the service's.
   */
  static final Set<String> ACCEPTED_LINT = Set.of(
      "jvm_compilation_time_ms_total metric names should not contain abbreviated units",
      "process_cpu_time_ns_total metric names should not contain abbreviated units",
      "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix");

  /**
   * {@code promtool check metrics}: the whole exposition parses, the service's own families
   * (webhook_*) have no lint finding at all, and the rest none beyond {@link #ACCEPTED_LINT}.
   */
  static void promtoolAccepts(String exposition) throws Exception {
    if (!Promtool.availableFor("promtool check metrics on the scraped /metrics")) {
      return;
    }
    Promtool.Result all = Promtool.run(exposition, "check", "metrics");
    assertThat(all.output()).as("promtool check metrics").doesNotContain("error while linting");
    List<String> findings = all.output().lines().filter(line -> !line.isBlank()).toList();
    assertThat(ACCEPTED_LINT).as("promtool check metrics findings (exit %d)", all.exitCode()).containsAll(findings);
    // promtool exits 3 for lint findings only, 1 for an unreadable exposition.
    assertThat(all.exitCode()).as("promtool exit code with findings %s", findings)
        .isEqualTo(findings.isEmpty() ? 0 : 3);

    StringBuilder own = new StringBuilder();
    boolean inOwnFamily = false;
    for (String line : exposition.split("\n")) {
      if (line.startsWith("# HELP ")) {
        inOwnFamily = line.startsWith("# HELP webhook_");
      }
      if (inOwnFamily) {
        own.append(line).append('\n');
      }
    }
    assertThat(own).as("webhook_* families in the exposition").isNotEmpty();
    Promtool.Result ours = Promtool.run(own.toString(), "check", "metrics");
    assertThat(ours.exitCode()).as("promtool check metrics on the webhook_* families:\n%s", ours.output()).isZero();
  }
}
