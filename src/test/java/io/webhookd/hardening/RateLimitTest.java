package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.Poll;
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
      warmUp(server);
      long started = System.nanoTime();
      List<RawHttp.Response> burst = burst(server, loopback(1));
      double seconds = (System.nanoTime() - started) / 1e9;

      List<RawHttp.Response> limited = limitedOnes(burst);
      assertThat(limited).as("a burst of %d at 5/s per address", BURST).isNotEmpty();
      // The bucket holds 5 and refills 5 a second.
      assertThat(burst.size() - limited.size()).as("requests let through in %.2f s", seconds)
          .isBetween(5, 5 + (int) Math.ceil(seconds * 5) + 1);
      assertLimitedAnswers(limited);
      burst.stream().filter(r -> r.status() != 429).forEach(r -> assertThat(r.status()).as("%s", r).isEqualTo(200));
      assertThat(server.metric("webhook_rejected_total", "reason=rate_limited")).isEqualTo(limited.size());
      assertThat(server.query("SELECT count(*) AS n FROM inbox_events").get(0).get("n"))
          .isEqualTo(WARM_UP + burst.size() - limited.size());

      // Another address has a bucket of its own.
      assertThat(signed(server, loopback(2)).status()).isEqualTo(200);
      // And the first is let through again once its bucket refilled.
      Poll.until("127.0.0.1 to be let through again", Duration.ofSeconds(5),
          () -> signed(server, loopback(1)).status(), status -> status == 200);
    }
  }

  @Test
  void globalLimitCountsEveryAddressTogether() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_RATE_LIMIT_GLOBAL", "2"));
         RawHttp first = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), loopback(1));
         RawHttp second = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), loopback(2))) {
      // Two addresses take turns: together they get what 2 a second allows, and both are refused.
      List<RawHttp.Response> fromFirst = new ArrayList<>();
      List<RawHttp.Response> fromSecond = new ArrayList<>();
      long started = System.nanoTime();
      for (int i = 0; i < BURST / 2; i++) {
        fromFirst.add(signed(server, first));
        fromSecond.add(signed(server, second));
      }
      double seconds = (System.nanoTime() - started) / 1e9;

      assertThat(limitedOnes(fromFirst)).as("127.0.0.1 refused").isNotEmpty();
      assertThat(limitedOnes(fromSecond)).as("127.0.0.2 refused: the bucket is shared").isNotEmpty();
      int limited = limitedOnes(fromFirst).size() + limitedOnes(fromSecond).size();
      assertThat(BURST - limited).as("let through in %.2f s by a limit of 2/s", seconds)
          .isLessThanOrEqualTo(2 + (int) Math.ceil(seconds * 2) + 1);
      assertLimitedAnswers(limitedOnes(fromFirst));
      assertLimitedAnswers(limitedOnes(fromSecond));
      assertThat(server.metric("webhook_rejected_total", "reason=rate_limited")).isEqualTo(limited);

      Poll.until("traffic to be let through again", Duration.ofSeconds(5),
          () -> signed(server, loopback(2)).status(), status -> status == 200);
    }
  }

  /**
   * The per-address limit exists so that one noisy client cannot starve the others: the requests it
   * refuses must not use up the global limit as well. A noisy client sends 10 requests for each of a
   * quiet client's 4; every request the quiet one sends fits both its own limit and what is left of
   * the global one, so all of them must be let through.
   */
  @Test
  void requestsRefusedPerAddressDoNotUseUpTheGlobalLimit() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_RATE_LIMIT_PER_IP", "5", "WEBHOOKD_HTTP_RATE_LIMIT_GLOBAL", "10"));
         RawHttp noisy = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), loopback(1));
         RawHttp quiet = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), loopback(2))) {
      List<RawHttp.Response> noisyAnswers = new ArrayList<>();
      List<RawHttp.Response> quietAnswers = new ArrayList<>();
      for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 10; i++) {
          noisyAnswers.add(noisy.get("/nope"));
        }
        quietAnswers.add(signed(server, quiet));
      }
      assertThat(limitedOnes(noisyAnswers)).as("the noisy client is limited").isNotEmpty();
      assertThat(quietAnswers).as("the quiet client's answers").allSatisfy(
          answer -> assertThat(answer.status()).as("%s", answer).isEqualTo(200));
    }
  }

  private static final int WARM_UP = 3;

  /** A few requests from an address of their own, so the burst does not measure a cold JVM. */
  private static void warmUp(HardenedServer server) throws Exception {
    for (int i = 0; i < WARM_UP; i++) {
      assertThat(signed(server, loopback(99)).status()).isEqualTo(200);
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
    try (RawHttp connection = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), from)) {
      return signed(server, connection);
    }
  }

  private static RawHttp.Response signed(HardenedServer server, RawHttp connection) throws Exception {
    byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
    return connection.post(IngestVerticle.PATH, body, Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body)));
  }

  private static InetAddress loopback(int last) throws Exception {
    return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
  }
}
