package io.webhookd.hardening;

import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.server.WebhookdServer;
import io.webhookd.store.sqlite.SqliteInboxStore;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Rows;
import io.webhookd.testing.TestSigner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service started in this JVM ({@link WebhookdServer#start(Settings, HandlerRegistry)}, no event
 * handlers, SQLite in a temporary directory, free ports) with {@code WEBHOOKD_*} settings given by the
 * test. Unlike {@link InProcessServer} it adds no signing secret of its own when the test configures
 * secrets (inline or through a file), so secret order is the test's.
 */
final class HardenedServer implements AutoCloseable {

  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private final Path workDir;
  private final Settings settings;
  private final String secret;
  private final WebhookdServer server;

  private HardenedServer(Path workDir, Settings settings, String secret, WebhookdServer server) {
    this.workDir = workDir;
    this.settings = settings;
    this.secret = secret;
    this.server = server;
  }

  /**
   * @param workDir   a fresh directory; the data directory and an empty config file go in it
   * @param overrides settings on top of {@link InProcessServer#defaults()}; without
   *                  {@code WEBHOOKD_OPENPHONE_SECRETS}/{@code _FILE} a fresh OpenPhone secret is set
   */
  static HardenedServer start(Path workDir, Map<String, String> overrides) throws Exception {
    return start(workDir, overrides, new HandlerRegistry());
  }

  /** As {@link #start(Path, Map)}, with these event handlers. */
  static HardenedServer start(Path workDir, Map<String, String> overrides, HandlerRegistry handlers) throws Exception {
    Map<String, String> env = new LinkedHashMap<>(InProcessServer.defaults());
    env.put("WEBHOOKD_DATA_DIR", workDir.resolve("data").toString());
    String secret = null;
    if (!overrides.containsKey("WEBHOOKD_OPENPHONE_SECRETS") && !overrides.containsKey("WEBHOOKD_OPENPHONE_SECRETS_FILE")) {
      secret = TestSigner.newOpenPhoneSecret();
      env.put("WEBHOOKD_OPENPHONE_SECRETS", secret);
    }
    env.putAll(overrides);
    Path config = workDir.resolve("webhookd-test.yaml");
    Files.writeString(config, "");
    InProcessServer.Started started = InProcessServer.startOnFreePorts(config, env, handlers);
    return new HardenedServer(workDir, started.settings(), secret, started.server());
  }

  Settings settings() {
    return settings;
  }

  /** The secret this harness configured; null when the test configured its own. */
  String secret() {
    return secret;
  }

  int port() {
    return settings.http().port();
  }

  int managementPort() {
    return settings.management().port();
  }

  /** A plain connection to the webhook port on 127.0.0.1. */
  RawHttp connect() throws IOException {
    return RawHttp.plain(port());
  }

  // ---- signed bodies ---------------------------------------------------------------------------

  /** A call.ringing body (not critical: answered "queued" at once) with the given envelope id. */
  static byte[] newEventBody(String eventId) {
    return new JsonObject()
        .put("id", eventId)
        .put("object", "event")
        .put("apiVersion", "v3")
        .put("createdAt", "2026-04-13T12:00:00.000Z")
        .put("type", "call.ringing")
        .put("data", new JsonObject().put("object", new JsonObject()
            .put("id", "AC" + UUID.randomUUID().toString().replace("-", ""))
            .put("object", "call")
            .put("from", "+15555550100")
            .put("to", "+15555550101")
            .put("direction", "incoming")
            .put("status", "ringing")
            .put("createdAt", "2026-04-13T12:00:00.000Z")))
        .encode().getBytes(StandardCharsets.UTF_8);
  }

  static String newEventId() {
    return "EV" + UUID.randomUUID().toString().replace("-", "");
  }

  /** The OpenPhone signature header value for {@code body} with this server's secret, now. */
  String sign(byte[] body) {
    return sign(secret, body);
  }

  static String sign(String secret, byte[] body) {
    return TestSigner.openPhoneSignature(secret, body, System.currentTimeMillis());
  }

  /** POSTs {@code body} signed with {@code secret} over a connection of its own. */
  RawHttp.Response postSigned(String secret, byte[] body) throws IOException {
    try (RawHttp connection = connect()) {
      return connection.post(IngestVerticle.PATH, body, Map.of(TestSigner.OPENPHONE_HEADER, sign(secret, body)));
    }
  }

  // ---- management port -------------------------------------------------------------------------

  /** GET /health on the management port: its status code. */
  int health() throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(managementUri("/health")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** A sample of the Prometheus scrape (e.g. {@code webhook_rejected_total}, {@code reason=rate_limited}); 0 when absent. */
  double metric(String name, String... labels) throws IOException, InterruptedException {
    String text = HTTP.send(HttpRequest.newBuilder(managementUri("/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return sample(text, name, labels);
  }

  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** The sum of the samples named {@code name} whose labels include every {@code key=value} given. */
  static double sample(String scrape, String name, String... labels) {
    double sum = 0;
    for (String line : scrape.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (line.startsWith("#") || !m.find() || !m.group(1).equals(name)) {
        continue;
      }
      Map<String, String> present = new LinkedHashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          present.put(l.group(1), l.group(2));
        }
      }
      boolean all = true;
      for (String label : labels) {
        String[] kv = label.split("=", 2);
        all &= kv[1].equals(present.get(kv[0]));
      }
      if (all) {
        sum += Double.parseDouble(m.group(4));
      }
    }
    return sum;
  }

  URI managementUri(String path) {
    return URI.create("http://127.0.0.1:" + managementPort() + path);
  }

  // ---- the store ---------------------------------------------------------------------------------

  Path databaseFile() {
    return workDir.resolve("data").resolve(SqliteInboxStore.FILE_NAME);
  }

  /** Runs a query on the SQLite file; rows by lower-case column name. */
  List<Map<String, Object>> query(String sql, Object... params) {
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + databaseFile().toAbsolutePath())) {
      return Rows.query(connection, sql, params);
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + sql, e);
    }
  }

  @Override
  public void close() {
    server.stop();
  }

  /** Error bodies are {@code {"error":..., "message":...}} and nothing else. */
  static JsonObject errorBody(RawHttp.Response response) {
    JsonObject json = response.json();
    if (!json.fieldNames().equals(Set.of("error", "message"))) {
      throw new AssertionError("not a uniform error body: " + response);
    }
    return json;
  }
}
