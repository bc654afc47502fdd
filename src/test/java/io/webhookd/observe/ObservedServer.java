package io.webhookd.observe;

import io.vertx.core.json.JsonObject;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import io.webhookd.testing.JsonAnswer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The service in this JVM ({@link InProcessServer}: real SQLite in a temporary directory unless
 * {@code WEBHOOKD_PG_URL} is given, free ports, a generated signing secret), with real HTTP to its
 * webhook and management listeners, signed however the test likes (a stale timestamp, a wrong key).
 */
final class ObservedServer implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(30);

  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  /** One HTTP answer. */
  record Reply(int status, String body) {
    JsonObject json() {
      return JsonAnswer.parse(status, body, body);
    }

    /** {@code status} of a 200 answer, {@code error} of an error answer. */
    String code() {
      return JsonAnswer.code(json());
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  /** One {@code /ready} verdict. */
  record Ready(int httpStatus, JsonObject body) {
    String status() {
      return body.getString("status");
    }

    JsonObject check(String name) {
      JsonObject checks = body.getJsonObject("checks");
      return checks == null ? null : checks.getJsonObject(name);
    }

    String checkStatus(String name) {
      JsonObject check = check(name);
      return check == null ? null : check.getString("status");
    }

    @Override
    public String toString() {
      return httpStatus + " " + body.encode();
    }
  }

  private final InProcessServer server;

  private ObservedServer(InProcessServer server) {
    this.server = server;
  }

  static ObservedServer start(Path dir, Map<String, String> overrides, HandlerRegistry handlers) throws Exception {
    return new ObservedServer(InProcessServer.start(dir, overrides, handlers));
  }

  InProcessServer server() {
    return server;
  }

  /** Stops and starts again on the same data (new free ports, a new metrics registry). */
  void restart(HandlerRegistry handlers) throws Exception {
    server.startAgain(handlers);
  }

  @Override
  public void close() {
    server.close();
  }

  // ---- the webhook listener ---------------------------------------------------------------------

  /** Signed with the test's secret (OpenPhone scheme), timestamp now. */
  Reply post(byte[] body) {
    return postSignedAt(body, System.currentTimeMillis());
  }

  /** Signed with the test's secret at {@code timestampMillis}. */
  Reply postSignedAt(byte[] body, long timestampMillis) {
    return postSignedWith(server.secret(), body, timestampMillis);
  }

  /** Signed with another secret. */
  Reply postSignedWith(String otherSecret, byte[] body, long timestampMillis) {
    return send(request(body).header(TestSigner.OPENPHONE_HEADER,
        TestSigner.openPhoneSignature(otherSecret, body, timestampMillis)).build());
  }

  /** Without any signature header. */
  Reply postUnsigned(byte[] body) {
    return send(request(body).build());
  }

  private HttpRequest.Builder request(byte[] body) {
    return HttpRequest.newBuilder(server.webhookUri())
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
  }

  // ---- the management listener ------------------------------------------------------------------

  URI managementUri(String path) {
    return URI.create("http://127.0.0.1:" + server.settings().management().port() + path);
  }

  Reply get(String path) {
    return send(HttpRequest.newBuilder(managementUri(path)).timeout(Duration.ofSeconds(20)).GET().build());
  }

  Scrape metrics() {
    Reply reply = get("/metrics");
    if (reply.status() != 200) {
      throw new AssertionError("GET /metrics answered " + reply);
    }
    return Scrape.parse(reply.body());
  }

  Ready ready() {
    Reply reply = get("/ready");
    return new Ready(reply.status(), reply.json());
  }

  /** Polls {@code /ready} until {@code done} accepts the verdict. */
  Ready awaitReady(String what, Predicate<Ready> done) {
    return Poll.until("/ready: " + what, WAIT, this::ready, done);
  }

  /** Polls {@code /metrics} until {@code done} accepts the scrape. */
  Scrape awaitMetrics(String what, Predicate<Scrape> done) {
    return Poll.until("/metrics: " + what, WAIT, this::metrics, done);
  }

  private static Reply send(HttpRequest request) {
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
