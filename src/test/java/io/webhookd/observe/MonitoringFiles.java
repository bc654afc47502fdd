package io.webhookd.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/** The shipped monitoring files: {@code conf/prometheus/alerts.yml} and {@code conf/grafana/webhookd.json}. */
final class MonitoringFiles {

  private static final Pattern METRIC = Pattern.compile("\\b((?:webhook|jvm|vertx|process|system)_[a-z0-9_]+)\\b");

  private MonitoringFiles() {
  }

  static Path alertRules() {
    return Promtool.projectDir().resolve("conf/prometheus/alerts.yml");
  }

  static Path alertTests() {
    return Promtool.projectDir().resolve("conf/prometheus/alerts.test.yml");
  }

  static Path dashboard() {
    return Promtool.projectDir().resolve("conf/grafana/webhookd.json");
  }

  /** The rules of every group, as YAML maps. */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> rules() throws IOException {
    try (Reader reader = Files.newBufferedReader(alertRules())) {
      Map<String, Object> root = new Yaml().load(reader);
      List<Map<String, Object>> rules = new ArrayList<>();
      for (Map<String, Object> group : (List<Map<String, Object>>) root.get("groups")) {
        rules.addAll((List<Map<String, Object>>) group.get("rules"));
      }
      return rules;
    }
  }

  static JsonObject dashboardJson() throws IOException {
    return new JsonObject(Files.readString(dashboard()));
  }

  /** Every panel, rows' nested panels included. */
  static List<JsonObject> panels(JsonObject dashboard) {
    List<JsonObject> all = new ArrayList<>();
    collect(dashboard.getJsonArray("panels", new JsonArray()), all);
    return all;
  }

  private static void collect(JsonArray panels, List<JsonObject> into) {
    for (int i = 0; i < panels.size(); i++) {
      JsonObject panel = panels.getJsonObject(i);
      into.add(panel);
      collect(panel.getJsonArray("panels", new JsonArray()), into);
    }
  }

  /** The PromQL of every dashboard target. */
  static List<String> dashboardExpressions() throws IOException {
    List<String> exprs = new ArrayList<>();
    for (JsonObject panel : panels(dashboardJson())) {
      JsonArray targets = panel.getJsonArray("targets", new JsonArray());
      for (int i = 0; i < targets.size(); i++) {
        exprs.add(targets.getJsonObject(i).getString("expr"));
      }
    }
    return exprs;
  }

  static List<String> alertExpressions() throws IOException {
    return rules().stream().map(rule -> String.valueOf(rule.get("expr"))).toList();
  }

  /** The service's, the JVM's and Vert.x's metric names an expression uses. */
  static Set<String> metricNames(String expr) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** A dashboard expression with Grafana's variables replaced, for promtool. */
  static String withVariablesReplaced(String expr) {
    return expr.replace("$__rate_interval", "5m").replace("$job", "webhookd").replace("$instance", ".*");
  }

  /**
   * Every metric name the dashboard and the alert rules use is in {@code scrape} (a real server's
   * {@code /metrics}), except those in {@code notInThisScrape}.
   */
  static void assertReferencedMetricsExist(Scrape scrape, Set<String> notInThisScrape) throws IOException {
    Set<String> referenced = new TreeSet<>();
    for (String expr : dashboardExpressions()) {
      referenced.addAll(metricNames(expr));
    }
    for (String expr : alertExpressions()) {
      referenced.addAll(metricNames(expr));
    }
    referenced.removeAll(notInThisScrape);
    assertThat(referenced).as("metrics the dashboard and alerts use").isNotEmpty();
    assertThat(scrape.names()).as("metric names served by /metrics").containsAll(referenced);
  }
}
