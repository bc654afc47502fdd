package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.TestSigner;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS-only policy end to end, over plain HTTP from this machine's own non-loopback address
 * (the listener binds every address; the test connects to, and so comes from, the machine's own
 * interface address, which the kernel delivers locally). Plain HTTP is refused 403
 * {@code https_required} unless it comes from loopback, or from a trusted proxy that says the
 * client spoke HTTPS ({@code X-Forwarded-Proto: https}); {@code http.https-only=false} lifts it.
 * Without such an address the tests are skipped (and fail under {@code CI=true}); the decision
 * logic is also covered address by address in {@link RequestGateTest}.
 */
class HttpsOnlyPolicyTest {

  private static InetAddress own;

  @TempDir
  Path dir;

  @BeforeAll
  static void findOwnAddress() {
    Optional<InetAddress> found = OwnAddress.find();
    if (found.isEmpty() && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("this machine has no non-loopback address to test the HTTPS-only policy from");
    }
    assumeThat(found).as("a non-loopback address of this machine (see RequestGateTest for the logic)").isPresent();
    own = found.get();
  }

  @Test
  void plainHttpFromANonLoopbackPeerIsRefusedUnlessFromLoopback() throws Exception {
    try (HardenedServer server = start(Map.of("WEBHOOKD_HTTP_TRUSTED_PROXIES", "198.51.100.0/24"))) {
      RawHttp.Response refused = post(server, own, Map.of());
      assertThat(refused.status()).as("%s", refused).isEqualTo(403);
      assertThat(HardenedServer.errorBody(refused).getString("error")).isEqualTo("https_required");
      assertThat(refused.header("X-Request-Id")).isNotBlank();

      // An untrusted peer cannot claim HTTPS for itself.
      RawHttp.Response claimed = post(server, own, Map.of("X-Forwarded-Proto", "https"));
      assertThat(claimed.status()).as("%s", claimed).isEqualTo(403);
      assertThat(claimed.code()).isEqualTo("https_required");

      RawHttp.Response loopback = post(server, InetAddress.getLoopbackAddress(), Map.of());
      assertThat(loopback.status()).as("%s", loopback).isEqualTo(200);

      assertThat(server.metric("webhook_rejected_total", "reason=https_required")).isEqualTo(2.0);
      assertThat(server.query("SELECT count(*) AS n FROM inbox_events").get(0).get("n")).isEqualTo(1);
    }
  }

  @Test
  void aTrustedProxySayingHttpsIsAccepted() throws Exception {
    try (HardenedServer server = start(Map.of("WEBHOOKD_HTTP_TRUSTED_PROXIES",
        "198.51.100.0/24, " + OwnAddress.hostNetwork(own)))) {
      RawHttp.Response forwarded = post(server, own, Map.of("X-Forwarded-Proto", "https",
          "X-Forwarded-For", "203.0.113.9"));
      assertThat(forwarded.status()).as("%s", forwarded).isEqualTo(200);
      assertThat(forwarded.code()).isEqualTo("queued");

      RawHttp.Response noHeader = post(server, own, Map.of());
      assertThat(noHeader.status()).as("%s", noHeader).isEqualTo(403);
      assertThat(noHeader.code()).isEqualTo("https_required");

      RawHttp.Response forwardedHttp = post(server, own, Map.of("X-Forwarded-Proto", "http"));
      assertThat(forwardedHttp.status()).as("%s", forwardedHttp).isEqualTo(403);
      assertThat(forwardedHttp.code()).isEqualTo("https_required");
    }
  }

  @Test
  void httpsOnlyFalseAcceptsPlainHttpFromAnyPeer() throws Exception {
    try (HardenedServer server = start(Map.of("WEBHOOKD_HTTP_HTTPS_ONLY", "false"))) {
      RawHttp.Response accepted = post(server, own, Map.of());
      assertThat(accepted.status()).as("%s", accepted).isEqualTo(200);
      assertThat(accepted.code()).isEqualTo("queued");
      assertThat(server.metric("webhook_rejected_total", "reason=https_required")).isZero();
    }
  }

  @Test
  void httpsFromANonLoopbackPeerIsAccepted() throws Exception {
    assumeThat(Certificates.opensslAvailable()).as("openssl, for a certificate naming %s", own).isTrue();
    String address = own.getHostAddress().replaceFirst("%.*$", "");
    Certificates.Pair pair = Certificates.generate(dir, "own", List.of(address));
    try (HardenedServer server = start(Map.of(
        "WEBHOOKD_HTTP_TLS_CERT_FILE", pair.certFile().toString(),
        "WEBHOOKD_HTTP_TLS_KEY_FILE", pair.keyFile().toString()));
         RawHttp connection = RawHttp.tls(Certificates.trusting(pair.certificate()), own, address, server.port())) {
      assertThat(connection.socket().getLocalAddress().isLoopbackAddress()).isFalse();
      byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
      RawHttp.Response accepted = connection.post(IngestVerticle.PATH, body,
          Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body)));
      assertThat(accepted.status()).as("%s", accepted).isEqualTo(200);
      assertThat(accepted.code()).isEqualTo("queued");
    }
  }

  private HardenedServer start(Map<String, String> settings) throws Exception {
    Map<String, String> all = new LinkedHashMap<>(settings);
    all.put("WEBHOOKD_HTTP_HOST", own instanceof java.net.Inet6Address ? "::" : "0.0.0.0");
    return HardenedServer.start(dir, all);
  }

  /** A signed webhook over plain HTTP to (and so from) {@code address}. */
  private static RawHttp.Response post(HardenedServer server, InetAddress address, Map<String, String> headers)
      throws Exception {
    byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put(TestSigner.OPENPHONE_HEADER, server.sign(body));
    try (RawHttp connection = RawHttp.plain(address, server.port(), null)) {
      InetAddress from = connection.socket().getLocalAddress();
      assertThat(from.isLoopbackAddress()).as("the client's address %s", from).isEqualTo(address.isLoopbackAddress());
      return connection.post(IngestVerticle.PATH, body, all);
    }
  }
}
