package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.ingest.RequestGate;
import io.webhookd.observe.Metrics;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link RequestGate}'s decisions, driven by real HTTP requests over loopback through a real router,
 * with one thing substituted: the peer address the gate sees, taken from a test-only header
 * ({@code X-Test-Peer}), so any address (documentation ranges, IPv6) can be the peer without
 * sending a packet anywhere but 127.0.0.1. A request the gate lets through is answered 200 "passed".
 */
class RequestGateTest {

  private static final String PEER = "X-Test-Peer";

  @TempDir
  Path dir;

  private Vertx vertx;
  private Metrics metrics;
  private int port;

  @AfterEach
  void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @ParameterizedTest(name = "https-only={0} trusted=[{1}] peer={2} X-Forwarded-Proto={3} -> {4}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
      "true  | -                        | 203.0.113.7  | -     | 403",
      "true  | -                        | 203.0.113.7  | https | 403",
      "true  | 203.0.113.0/24           | 203.0.113.7  | https | 200",
      "true  | 203.0.113.0/24           | 203.0.113.7  | HTTPS | 200",
      "true  | 203.0.113.0/24           | 203.0.113.7  | http  | 403",
      "true  | 203.0.113.0/24           | 203.0.113.7  | -     | 403",
      "true  | 203.0.113.0/24           | 198.51.100.9 | https | 403",
      "true  | 203.0.113.7/32           | 203.0.113.8  | https | 403",
      "true  | 203.0.113.0/24           | 127.0.0.1    | -     | 200",
      "true  | -                        | 127.0.0.1    | -     | 200",
      "true  | -                        | 127.42.0.9   | -     | 200",
      "true  | -                        | ::1          | -     | 200",
      "true  | -                        | 2001:db8::5  | -     | 403",
      "true  | 2001:db8::/32            | 2001:db8::5  | https | 200",
      "true  | 2001:db8::/32            | 2001:db9::5  | https | 403",
      "true  | 0.0.0.0/0                | 198.51.100.9 | https | 200",
      "false | -                        | 203.0.113.7  | -     | 200",
      "false | -                        | 2001:db8::5  | -     | 200",
  })
  void httpsOnlyDecision(boolean httpsOnly, String trusted, String peer, String forwardedProto, int expected)
      throws Exception {
    start(Map.of("WEBHOOKD_HTTP_HTTPS_ONLY", Boolean.toString(httpsOnly),
        "WEBHOOKD_HTTP_TRUSTED_PROXIES", trusted == null ? "" : trusted));
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(PEER, peer);
    if (forwardedProto != null) {
      headers.put("X-Forwarded-Proto", forwardedProto);
    }
    try (RawHttp connection = RawHttp.plain(port)) {
      RawHttp.Response response = connection.send("POST", "/webhooks/openphone", headers, new byte[0]);
      assertThat(response.status()).as("%s", response).isEqualTo(expected);
      assertThat(response.header("X-Request-Id")).isNotBlank();
      if (expected == 403) {
        assertThat(HardenedServer.errorBody(response).getString("error")).isEqualTo("https_required");
        assertThat(HardenedServer.sample(metrics.registry().scrape(), "webhook_rejected_total",
            "reason=https_required")).isEqualTo(1.0);
      } else {
        assertThat(response.text()).isEqualTo("passed");
      }
    }
  }

  /** Behind a trusted proxy each client (its last X-Forwarded-For hop) has a bucket of its own. */
  @Test
  void clientsBehindATrustedProxyAreLimitedOneByOne() throws Exception {
    start(Map.of("WEBHOOKD_HTTP_TRUSTED_PROXIES", "203.0.113.0/24", "WEBHOOKD_HTTP_RATE_LIMIT_PER_IP", "2"));
    Map<String, String> first = Map.of(PEER, "203.0.113.7", "X-Forwarded-Proto", "https",
        "X-Forwarded-For", "192.0.2.200, 198.51.100.1");
    Map<String, String> second = Map.of(PEER, "203.0.113.7", "X-Forwarded-Proto", "https",
        "X-Forwarded-For", "198.51.100.2");
    try (RawHttp connection = RawHttp.plain(port)) {
      assertThat(connection.send("GET", "/", first, null).status()).isEqualTo(200);
      assertThat(connection.send("GET", "/", first, null).status()).isEqualTo(200);
      RawHttp.Response limited = connection.send("GET", "/", first, null);
      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.code()).isEqualTo("rate_limited");
      assertThat(connection.send("GET", "/", second, null).status()).isEqualTo(200);
    }
  }

  /** An untrusted peer's X-Forwarded-For is ignored: it cannot get itself fresh buckets. */
  @Test
  void anUntrustedPeerCannotDodgeItsLimitWithXForwardedFor() throws Exception {
    start(Map.of("WEBHOOKD_HTTP_HTTPS_ONLY", "false", "WEBHOOKD_HTTP_RATE_LIMIT_PER_IP", "2"));
    try (RawHttp connection = RawHttp.plain(port)) {
      for (int i = 1; i <= 2; i++) {
        assertThat(connection.send("GET", "/", Map.of(PEER, "198.51.100.50", "X-Forwarded-For", "10.0.0." + i), null)
            .status()).isEqualTo(200);
      }
      RawHttp.Response third = connection.send("GET", "/", Map.of(PEER, "198.51.100.50",
          "X-Forwarded-For", "10.0.0.3"), null);
      assertThat(third.status()).as("%s", third).isEqualTo(429);
      assertThat(Long.parseLong(third.header("Retry-After"))).isGreaterThanOrEqualTo(1);
    }
  }

  private void start(Map<String, String> env) throws Exception {
    Path config = dir.resolve("empty.yaml");
    Files.writeString(config, "");
    Settings.Http http = SettingsLoader.load(config, env).http();
    metrics = new Metrics();
    RequestGate gate = new RequestGate(http, metrics);
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.route().handler(gate::handle);
    router.route().handler(ctx -> ctx.response().end("passed"));
    HttpServer server = vertx.createHttpServer()
        .connectionHandler(gate.connections()::opened)
        .requestHandler(request -> router.handle(withPeer(request)));
    port = server.listen(0, "127.0.0.1").await().actualPort();
  }

  private static HttpServerRequest withPeer(HttpServerRequest request) {
    String peer = request.getHeader(PEER);
    if (peer == null) {
      return request;
    }
    SocketAddress address;
    try {
      address = SocketAddress.inetSocketAddress(new InetSocketAddress(InetAddress.getByName(peer), 40_000));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(peer, e);
    }
    return new HttpServerRequestWrapper((HttpServerRequestInternal) request) {
      @Override
      public SocketAddress remoteAddress() {
        return address;
      }
    };
  }
}
