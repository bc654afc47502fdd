package io.webhookd.testing;

import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.server.WebhookdServer;
import io.webhookd.store.sqlite.SqliteInboxStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The whole service running inside the test JVM ({@link WebhookdServer#start(Settings, HandlerRegistry)})
 * on an embedded SQLite inbox in a test's temporary directory, with free ports, a freshly generated
 * OpenPhone signing secret, and settings given as {@code WEBHOOKD_*} overrides. It sends real HTTP
 * requests signed the way OpenPhone signs them ({@link TestSigner}), reads what the service stored
 * straight from the SQLite file over JDBC (reading is fine while the service writes: the file is in
 * WAL mode), and can be stopped and started again on the same data directory.
 *
 * <p>Not thread-safe for start/stop; sending and reading may happen from any thread.
 */
public final class InProcessServer implements AutoCloseable {

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

  private final Path workDir;
  private final Path configFile;
  private final Path dataDir;
  private final String secret;
  private final Map<String, String> overrides;
  private final HttpClient http;
  private volatile Settings settings;
  private volatile WebhookdServer server;

  private InProcessServer(Path workDir, Map<String, String> overrides) {
    this.workDir = workDir;
    this.configFile = workDir.resolve("webhookd-test.yaml");
    this.dataDir = workDir.resolve("data");
    this.secret = TestSigner.newOpenPhoneSecret();
    this.overrides = Map.copyOf(overrides);
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /**
   * Starts the service in this JVM.
   *
   * @param workDir   a fresh directory (a JUnit {@code @TempDir}); the data directory and an empty
   *                  config file are made inside it
   * @param overrides {@code WEBHOOKD_*} settings on top of the test defaults (see {@link #defaults})
   * @param handlers  the handlers the service runs
   */
  public static InProcessServer start(Path workDir, Map<String, String> overrides, HandlerRegistry handlers)
      throws Exception {
    InProcessServer server = new InProcessServer(workDir, overrides);
    Files.writeString(server.configFile, "");
    server.startAgain(handlers);
    return server;
  }

  /**
   * The settings every in-process server gets unless overridden: loopback listeners, a short poll,
   * short shutdown, millisecond retries. Ports, data directory and secret are always set here.
   */
  public static Map<String, String> defaults() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("WEBHOOKD_HTTP_HOST", "127.0.0.1");
    env.put("WEBHOOKD_HTTP_INSTANCES", "2");
    env.put("WEBHOOKD_HTTP_SHUTDOWN_TIMEOUT", "2s");
    env.put("WEBHOOKD_MANAGEMENT_HOST", "127.0.0.1");
    env.put("WEBHOOKD_PROCESS_WORKERS", "4");
    env.put("WEBHOOKD_PROCESS_POLL_INTERVAL", "50ms");
    env.put("WEBHOOKD_PROCESS_LEASE", "10s");
    env.put("WEBHOOKD_PROCESS_RETRY_BASE", "200ms");
    env.put("WEBHOOKD_PROCESS_RETRY_CAP", "2s");
    env.put("WEBHOOKD_PROCESS_MAX_RETRIES", "3");
    env.put("WEBHOOKD_PROCESS_CRITICAL_BUDGET", "300ms");
    return env;
  }

  /**
   * Starts the service again on the same data directory and secret, on new free ports, with the
   * given handlers; stops the running one first if there is one.
   */
  public void startAgain(HandlerRegistry handlers) throws Exception {
    startAgain(handlers, Map.of());
  }

  /** As {@link #startAgain(HandlerRegistry)}, with further overrides for this run only. */
  public void startAgain(HandlerRegistry handlers, Map<String, String> moreOverrides) throws Exception {
    stop();
    Map<String, String> env = new HashMap<>(defaults());
    env.putAll(overrides);
    env.putAll(moreOverrides);
    env.put("WEBHOOKD_DATA_DIR", dataDir.toString());
    env.put("WEBHOOKD_OPENPHONE_SECRETS", secret);
    Started started = startOnFreePorts(configFile, env, handlers);
    server = started.server();
    settings = started.settings();
  }

  /** The settings a service was started with, and the service. */
  public record Started(Settings settings, WebhookdServer server) {
  }

  /**
   * Starts the service with {@code env} on {@code configFile}, its HTTP and management ports free
   * ones. A port found free can be taken before the server binds it (by an outgoing connection's
   * ephemeral port, or another process's test); the failed start has cleaned up, so other ports
   * are tried.
   */
  public static Started startOnFreePorts(Path configFile, Map<String, String> env, HandlerRegistry handlers)
      throws Exception {
    Map<String, String> all = new HashMap<>(env);
    for (int attempt = 1; ; attempt++) {
      int httpPort = freePort();
      all.put("WEBHOOKD_HTTP_PORT", Integer.toString(httpPort));
      all.put("WEBHOOKD_MANAGEMENT_PORT", Integer.toString(freePortOtherThan(httpPort)));
      Settings loaded = SettingsLoader.load(configFile, all);
      try {
        return new Started(loaded, WebhookdServer.start(loaded, handlers));
      } catch (Exception e) {
        if (attempt == BIND_ATTEMPTS || !portTaken(e)) {
          throw e;
        }
      }
    }
  }

  private static final int BIND_ATTEMPTS = 3;

  /** Java's sockets say so with a BindException; the native transport's with errno's text. */
  private static boolean portTaken(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
        return true;
      }
    }
    return false;
  }

  /** Graceful stop (blocking); does nothing when not running. */
  public void stop() {
    WebhookdServer running = server;
    server = null;
    if (running != null) {
      running.stop();
    }
  }

  @Override
  public void close() {
    stop();
  }

  public boolean running() {
    return server != null;
  }

  public Settings settings() {
    return settings;
  }

  public Path workDir() {
    return workDir;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Path databaseFile() {
    return dataDir.resolve(SqliteInboxStore.FILE_NAME);
  }

  /** The generated OpenPhone signing secret (base64), the service's first and only one unless overridden. */
  public String secret() {
    return secret;
  }

  public URI webhookUri() {
    return URI.create("http://127.0.0.1:" + settings.http().port() + IngestVerticle.PATH);
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** POSTs {@code body} signed with this server's secret (OpenPhone legacy scheme, timestamp now). */
  public HttpResponse<String> send(byte[] body) throws IOException, InterruptedException {
    return http.send(signed(body), HttpResponse.BodyHandlers.ofString());
  }

  /** As {@link #send}, without waiting. */
  public CompletableFuture<HttpResponse<String>> sendAsync(byte[] body) {
    return http.sendAsync(signed(body), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest signed(byte[] body) {
    long now = System.currentTimeMillis();
    return HttpRequest.newBuilder(webhookUri())
        .timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json")
        .header(TestSigner.OPENPHONE_HEADER, TestSigner.openPhoneSignature(secret, body, now))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  // ---- reading the store -----------------------------------------------------------------------

  /** Runs a query on the SQLite file; rows by lower-case column name, in order. */
  public List<Map<String, Object>> query(String sql, Object... params) {
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + databaseFile().toAbsolutePath())) {
      return Rows.query(connection, sql, params);
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + sql, e);
    }
  }

  /** The event's {@code inbox_events} row (without its body), or null when it is not stored. */
  public Map<String, Object> inboxRow(String eventId) {
    List<Map<String, Object>> rows = query("""
        SELECT id, event_id, event_type, occurred_at, partition_key, status, attempts, last_error,
               first_failed_at, last_failed_at, due_at, lease_owner, lease_until, updated_at
        FROM inbox_events WHERE source = 'openphone' AND event_id = ?""", eventId);
    return rows.isEmpty() ? null : rows.get(0);
  }

  /** The event's status, or null when it is not stored. */
  public String status(String eventId) {
    Map<String, Object> row = inboxRow(eventId);
    return row == null ? null : (String) row.get("status");
  }

  /** The states of the event's audit trail, oldest first. */
  public List<String> auditStates(String eventId) {
    return query("SELECT state FROM event_audit WHERE source = 'openphone' AND event_id = ? ORDER BY id",
        eventId).stream().map(row -> (String) row.get("state")).toList();
  }

  /** The event's {@code dead_letters} row, or null. */
  public Map<String, Object> deadLetter(String eventId) {
    List<Map<String, Object>> rows = query(
        "SELECT * FROM dead_letters WHERE source = 'openphone' AND event_id = ?", eventId);
    return rows.isEmpty() ? null : rows.get(0);
  }

  /** Waits until the event has the given status, and returns its row. */
  public Map<String, Object> awaitStatus(String eventId, String status, Duration timeout) {
    return Poll.until("event " + eventId + " to be " + status, timeout, () -> inboxRow(eventId),
        row -> row != null && status.equals(row.get("status")));
  }

  /**
   * Takes the SQLite write lock from outside, as another process would ({@code BEGIN IMMEDIATE} on
   * a connection of its own): the service's writer waits (up to its busy timeout, 5 s) until the
   * returned handle is closed. Reading stays possible meanwhile.
   */
  public WriteLock holdWriteLock() throws SQLException {
    Connection connection = DriverManager.getConnection("jdbc:sqlite:" + databaseFile().toAbsolutePath());
    try (var statement = connection.createStatement()) {
      statement.execute("PRAGMA busy_timeout = 5000");
      statement.execute("BEGIN IMMEDIATE");
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return new WriteLock(connection);
  }

  /** The write lock {@link #holdWriteLock()} took; closing it releases it. */
  public static final class WriteLock implements AutoCloseable {
    private final Connection connection;

    private WriteLock(Connection connection) {
      this.connection = connection;
    }

    /** Releases the lock; closing again does nothing. */
    @Override
    public void close() throws SQLException {
      if (connection.isClosed()) {
        return;
      }
      try (var statement = connection.createStatement()) {
        statement.execute("ROLLBACK");
      } finally {
        connection.close();
      }
    }
  }

  /** Whether the management listener accepts connections (it is the last one a stop closes). */
  public boolean managementListening() {
    try (var socket = new java.net.Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), settings.management().port()), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * A free port that is not {@code taken}: two calls to {@link #freePort()} can return the same
   * port (the first is not held), and the service refuses one port for both of its listeners.
   */
  public static int freePortOtherThan(int taken) {
    int port = freePort();
    while (port == taken) {
      port = freePort();
    }
    return port;
  }

  /** A TCP port free on the loopback interface right now. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
