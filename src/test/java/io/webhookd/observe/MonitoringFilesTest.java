package io.webhookd.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.process.DeadLetterAlerts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules and the Grafana dashboard as shipped: promtool accepts the rules and their unit
 * tests pass, every rule is labelled and annotated, every dashboard query is valid PromQL on the
 * templated data source, and the dashboard covers what an operator needs. (That every metric they
 * name exists is checked against a real server's scrape in {@link MetricsEndToEndTest}.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MonitoringFilesTest {

  private static final Set<String> REQUIRED_ALERTS = Set.of(
      "WebhookdInstanceDown", "WebhookdDeadLetterQueueGrowing", "WebhookdDeadLettersWaiting",
      "WebhookdCriticalEventDeadLettered", "WebhookdBacklog", "WebhookdProcessingErrors",
      "WebhookdProcessingFailing", "WebhookdStorageUnavailable", "WebhookdSqliteDiskSlow",
      "WebhookdNoWebhooksReceived");

  @TempDir
  Path dir;

  // ---- alert rules --------------------------------------------------------------------------------

  @Test
  void promtoolAcceptsTheAlertRules() throws Exception {
    Promtool.Result result = Promtool.run(null, "check", "rules", MonitoringFiles.alertRules().toString());
    assertThat(result.exitCode()).as("promtool check rules:\n%s", result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS");
  }

  @Test
  void theAlertRulesPassTheirUnitTests() throws Exception {
    Promtool.Result result = Promtool.run(null, "test", "rules", MonitoringFiles.alertTests().toString());
    assertThat(result.exitCode()).as("promtool test rules:\n%s", result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS");
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyAlertHasASeverityASummaryAndADescription() throws Exception {
    List<Map<String, Object>> rules = MonitoringFiles.rules();
    Set<String> names = new HashSet<>();
    for (Map<String, Object> rule : rules) {
      String name = (String) rule.get("alert");
      assertThat(name).as("every rule is an alert: %s", rule).isNotBlank();
      assertThat(names.add(name)).as("alert %s defined once", name).isTrue();
      Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
      assertThat(labels).as("labels of %s", name).isNotNull();
      assertThat(labels.get("severity")).as("severity of %s", name).isIn("critical", "warning");
      Map<String, Object> annotations = (Map<String, Object>) rule.get("annotations");
      assertThat(annotations).as("annotations of %s", name).isNotNull();
      assertThat((String) annotations.get("summary")).as("summary of %s", name).isNotBlank();
      assertThat((String) annotations.get("description")).as("description of %s", name).isNotBlank();
      assertThat(String.valueOf(rule.get("expr"))).as("expr of %s", name).contains("job=\"webhookd\"");
    }
    assertThat(names).containsAll(REQUIRED_ALERTS);
    Map<String, Object> down = rules.stream().filter(r -> "WebhookdInstanceDown".equals(r.get("alert")))
        .findFirst().orElseThrow();
    assertThat(String.valueOf(down.get("expr"))).isEqualTo("up{job=\"webhookd\"} == 0");
  }

  /** The header's recipe for another quiet period changes that rule, and only that rule, validly. */
  @Test
  void theQuietPeriodCanBeChangedAsDocumented() throws Exception {
    String original = Files.readString(MonitoringFiles.alertRules());
    String recipe = original.lines().filter(line -> line.startsWith("#   sed -i") || line.startsWith("#          -e"))
        .map(line -> line.substring(1).trim().replaceAll("\\\\$", "").replace(" alerts.yml", ""))
        .collect(Collectors.joining(" "));
    assertThat(recipe).as("the documented sed command").startsWith("sed -i -e ");
    Path copy = dir.resolve("alerts.yml");
    Files.writeString(copy, original);
    List<String> command = new ArrayList<>(List.of("sh", "-c", recipe + " \"$0\"", copy.toString()));
    Process sed = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(sed.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(sed.waitFor()).as("sed: %s", output).isZero();
    String changed = Files.readString(copy);
    String rule = changed.substring(changed.indexOf("- alert: WebhookdNoWebhooksReceived"));
    assertThat(rule).contains("[12h]", "offset 12h", "12 hours").doesNotContain("[2h]", "offset 2h", " 2 hours");
    assertThat(changed.substring(0, changed.indexOf("- alert: WebhookdNoWebhooksReceived")))
        .as("the rest of the file").isEqualTo(original.substring(0, original.indexOf("- alert: WebhookdNoWebhooksReceived")));
    Promtool.Result check = Promtool.run(null, "check", "rules", copy.toString());
    assertThat(check.exitCode()).as("promtool check rules on the changed copy:\n%s", check.output()).isZero();
  }

  /** The counter the critical dead-letter alert counts is the one the service increments. */
  @Test
  void aCriticalDeadLetterIsCountedUnderTheAlertsMetricName() {
    Vertx vertx = Vertx.vertx();
    try {
      Metrics metrics = new Metrics();
      WebhookEvent event = new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, "EVcritical", "message.received",
          0L, "conversation:CN1", 0L, "openphone", "{}".getBytes(StandardCharsets.UTF_8));
      new DeadLetterAlerts(vertx, "", metrics).deadLettered(new InboxEvent(1L, 6, event), "test failure");
      Scrape scrape = Scrape.parse(metrics.registry().scrape());
      assertThat(scrape.series("webhook_dlq_alerts_total", "type"))
          .isEqualTo(MetricsEndToEndTest.expected("type=message.received", 1));
    } finally {
      vertx.close().await();
    }
  }

  // ---- dashboard ----------------------------------------------------------------------------------

  @Test
  void theDashboardUsesATemplatedPrometheusDataSourceEverywhere() throws Exception {
    JsonObject dashboard = MonitoringFiles.dashboardJson();
    assertThat(dashboard.getString("title")).isEqualTo("webhookd");
    assertThat(dashboard.getString("uid")).isNotBlank();
    JsonArray variables = dashboard.getJsonObject("templating").getJsonArray("list");
    JsonObject ds = variables.stream().map(JsonObject.class::cast)
        .filter(v -> "DS_PROMETHEUS".equals(v.getString("name"))).findFirst().orElseThrow();
    assertThat(ds.getString("type")).isEqualTo("datasource");
    assertThat(ds.getString("query")).isEqualTo("prometheus");
    assertThat(variables.stream().map(v -> ((JsonObject) v).getString("name"))).contains("job", "instance");

    Set<Integer> ids = new HashSet<>();
    for (JsonObject panel : MonitoringFiles.panels(dashboard)) {
      assertThat(ids.add(panel.getInteger("id"))).as("panel id %s unique", panel.getInteger("id")).isTrue();
      JsonObject grid = panel.getJsonObject("gridPos");
      assertThat(grid.getInteger("x") + grid.getInteger("w")).as("width of %s", panel.getString("title"))
          .isLessThanOrEqualTo(24);
      if ("row".equals(panel.getString("type"))) {
        continue;
      }
      assertThat(panel.getJsonObject("datasource")).as("data source of %s", panel.getString("title"))
          .isEqualTo(new JsonObject().put("type", "prometheus").put("uid", "${DS_PROMETHEUS}"));
      JsonArray targets = panel.getJsonArray("targets");
      assertThat(targets).as("queries of %s", panel.getString("title")).isNotEmpty();
      Set<String> refIds = new HashSet<>();
      for (int i = 0; i < targets.size(); i++) {
        JsonObject target = targets.getJsonObject(i);
        assertThat(target.getJsonObject("datasource")).isEqualTo(panel.getJsonObject("datasource"));
        assertThat(target.getString("expr")).isNotBlank();
        assertThat(refIds.add(target.getString("refId"))).isTrue();
      }
    }
    assertNoOverlap(MonitoringFiles.panels(dashboard));
  }

  @Test
  void theDashboardCoversTheServicesMetrics() throws Exception {
    String all = String.join("\n", MonitoringFiles.dashboardExpressions());
    assertThat(all).contains(
        "sum by (type) (rate(webhook_received_total",
        "sum by (type, status) (rate(webhook_processed_total",
        "histogram_quantile(0.50, sum by (le) (rate(webhook_ack_seconds_bucket",
        "histogram_quantile(0.99, sum by (le) (rate(webhook_ack_seconds_bucket",
        "webhook_processing_seconds_bucket",
        "webhook_queue_size",
        "webhook_dlq_size",
        "sum by (reason) (rate(webhook_rejected_total",
        "sum by (tier) (rate(webhook_duplicates_total",
        "webhook_retries_total",
        "jvm_memory_used_bytes{job=~\"$job\", instance=~\"$instance\", area=\"heap\"}",
        "vertx_http_server_requests_total",
        "vertx_http_server_response_time_seconds");
  }

  /** promtool has no PromQL syntax check of its own: every query becomes a recording rule it checks. */
  @Test
  void everyDashboardQueryIsValidPromQl() throws Exception {
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    List<String> exprs = MonitoringFiles.dashboardExpressions();
    for (int i = 0; i < exprs.size(); i++) {
      String expr = MonitoringFiles.withVariablesReplaced(exprs.get(i));
      assertThat(expr).as("dashboard query %d with its variables replaced", i).doesNotContain("$");
      rules.append("      - record: dashboard:query_").append(i).append('\n')
          .append("        expr: '").append(expr.replace("'", "''")).append("'\n");
    }
    Path file = dir.resolve("dashboard-queries.yml");
    Files.writeString(file, rules.toString());
    Promtool.Result result = Promtool.run(null, "check", "rules", file.toString());
    assertThat(result.exitCode()).as("promtool check rules on the dashboard's queries:\n%s", result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS: " + exprs.size() + " rules found");
  }

  private static void assertNoOverlap(List<JsonObject> panels) {
    List<int[]> boxes = new ArrayList<>();
    List<String> titles = new ArrayList<>();
    for (JsonObject panel : panels) {
      JsonObject g = panel.getJsonObject("gridPos");
      int[] box = {g.getInteger("x"), g.getInteger("y"), g.getInteger("w"), g.getInteger("h")};
      for (int i = 0; i < boxes.size(); i++) {
        int[] o = boxes.get(i);
        boolean overlap = box[0] < o[0] + o[2] && o[0] < box[0] + box[2] && box[1] < o[1] + o[3] && o[1] < box[1] + box[3];
        assertThat(overlap).as("%s overlaps %s", panel.getString("title"), titles.get(i)).isFalse();
      }
      boxes.add(box);
      titles.add(panel.getString("title"));
    }
  }
}
