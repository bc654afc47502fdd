package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.TestSigner;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rate limits per client address and overall: over a limit the answer is 429 with
 * {@code Retry-After} (whole seconds, at least 1) and {@code {"error":"rate_limited"}}, counted as
 * {@code webhook_rejected_total{reason="rate_limited"}}; the sender retries, nothing is stored for
 * a refused request, and the limit lets traffic through again once the bucket refills. Two client
 * addresses on loopback (127.0.0.1 and 127.0.0.2) tell a per-address limit from a global one.
 */
class RateLimitTest {

  private static final int BURST = 20;

  @TempDir
  Path dir;

  @Test
  void perAddressLimitAnswers429WithRetryAfterAndLeavesOtherAddressesAlone() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_RATE_LIMIT_PER_IP", "5"))) {
      List<RawHttp.Response> burst = burst(server, loopback(1));

      List<RawHttp.Response> limited = limitedOnes(burst);
      assertThat(limited).as("a burst of %d at 5/s per address", BURST).isNotEmpty();
      assertThat(burst.size() - limited.size()).as("requests let through").isBetween(5, 12);
      assertLimitedAnswers(limited);
      burst.stream().filter(r -> r.status() != 429).forEach(r -> assertThat(r.status()).as("%s", r).isEqualTo(200));
      assertThat(server.metric("webhook_rejected_total", "reason=rate_limited")).isEqualTo(limited.size());
      assertThat(server.query("SELECT count(*) AS n FROM inbox_events").get(0).get("n"))
          .isEqualTo(burst.size() - limited.size());

      // Another address has a bucket of its own.
      assertThat(signed(server, loopback(2)).status()).isEqualTo(200);
      // And the first is let through again once its bucket refilled.
      InProcessServer.await("127.0.0.1 to be let through again", Duration.ofSeconds(5),
          () -> signed(server, loopback(1)).status(), status -> status == 200);
    }
  }

  @Test
  void globalLimitCountsEveryAddressTogether() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_RATE_LIMIT_GLOBAL", "5"))) {
      List<RawHttp.Response> burst = burst(server, loopback(1));
      List<RawHttp.Response> limited = limitedOnes(burst);
      assertThat(limited).isNotEmpty();
      assertLimitedAnswers(limited);

      // Another address meets the same, exhausted, bucket.
      RawHttp.Response other = signed(server, loopback(2));
      assertThat(other.status()).as("%s", other).isEqualTo(429);
      assertLimitedAnswers(List.of(other));
      assertThat(server.metric("webhook_rejected_total", "reason=rate_limited")).isEqualTo(limited.size() + 1);

      InProcessServer.await("traffic to be let through again", Duration.ofSeconds(5),
          () -> signed(server, loopback(2)).status(), status -> status == 200);
    }
  }

  /**
   * The per-address limit exists so that one noisy client cannot starve the others: the requests it
   * refuses must not use up the global limit as well.
   */
  @Test
  void requestsRefusedPerAddressDoNotUseUpTheGlobalLimit() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_RATE_LIMIT_PER_IP", "5", "WEBHOOKD_HTTP_RATE_LIMIT_GLOBAL", "10"))) {
      // 127.0.0.1 hammers: 5 let through, the rest refused by its own limit.
      List<RawHttp.Response> noisy = new ArrayList<>();
      try (RawHttp connection = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), loopback(1))) {
        for (int i = 0; i < 40; i++) {
          noisy.add(connection.get("/nope"));
        }
        // At most 5 + what refilled meanwhile went through for it: the global bucket (10) is not empty.
        assertThat(noisy.stream().filter(r -> r.status() == 404).count()).isLessThan(10);
        RawHttp.Response quiet = signed(server, loopback(2));
        assertThat(quiet.status()).as("a quiet client right after the noisy burst: %s", quiet).isEqualTo(200);
      }
    }
  }

  private static void assertLimitedAnswers(List<RawHttp.Response> limited) {
    for (RawHttp.Response response : limited) {
      assertThat(response.header("Retry-After")).as("%s", response).matches("[0-9]+");
      assertThat(Long.parseLong(response.header("Retry-After"))).isBetween(1L, 2L);
      assertThat(HardenedServer.errorBody(response).getString("error")).isEqualTo("rate_limited");
      assertThat(response.header("X-Request-Id")).isNotBlank();
      assertThat(response.header("Content-Type")).startsWith("application/json");
    }
  }

  private static List<RawHttp.Response> limitedOnes(List<RawHttp.Response> responses) {
    return responses.stream().filter(r -> r.status() == 429).toList();
  }

  /** BURST signed webhooks back to back on one keep-alive connection from {@code from}. */
  private static List<RawHttp.Response> burst(HardenedServer server, InetAddress from) throws Exception {
    List<RawHttp.Response> responses = new ArrayList<>();
    try (RawHttp connection = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), from)) {
      for (int i = 0; i < BURST; i++) {
        byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
        responses.add(connection.post(IngestVerticle.PATH, body, Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body))));
      }
    }
    return responses;
  }

  private static RawHttp.Response signed(HardenedServer server, InetAddress from) throws Exception {
    byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
    try (RawHttp connection = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), from)) {
      return connection.post(IngestVerticle.PATH, body, Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body)));
    }
  }

  private static InetAddress loopback(int last) throws Exception {
    return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
  }
}
