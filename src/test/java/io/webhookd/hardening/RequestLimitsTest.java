package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits on what one client can make the listener hold: header size (431), a request that takes
 * too long to arrive (408, then the connection is closed), idle connections (closed), and the number
 * of open connections (503 {@code too_many_connections}, then closed). Each answer says clearly what
 * happened.
 */
class RequestLimitsTest {

  @TempDir
  Path dir;

  @Test
  void aHeaderOverMaxHeaderSizeGets431() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_MAX_HEADER_SIZE", "2KiB"))) {
      try (RawHttp connection = server.connect()) {
        RawHttp.Response small = connection.send("POST", IngestVerticle.PATH, Map.of("X-Padding", "a".repeat(1024)),
            new byte[0]);
        assertThat(small.status()).as("%s", small).isEqualTo(401);
      }
      try (RawHttp connection = server.connect()) {
        RawHttp.Response big = connection.send("POST", IngestVerticle.PATH, Map.of("X-Padding", "a".repeat(4096)),
            new byte[0]);
        assertThat(big.status()).as("%s", big).isEqualTo(431);
        assertThat(big.text()).doesNotContain("Exception").doesNotContain("at io.");
      }
      assertThat(server.health()).isEqualTo(200);
    }
  }

  /**
   * The answers the HTTP decoder gives before any handler runs (a head too large, a request line too
   * long, a malformed request) are clear statuses too, with the same uniform JSON error body and an
   * {@code X-Request-Id} like every other answer (Vert.x: {@code HttpServer.invalidRequestHandler}).
   */
  @Test
  void decoderRefusalsCarryAUniformErrorBodyAndARequestId() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_MAX_HEADER_SIZE", "2KiB"))) {
      Map<String, RawHttp.Response> answers = new java.util.LinkedHashMap<>();
      try (RawHttp connection = server.connect()) {
        answers.put("header too large", connection.send("POST", IngestVerticle.PATH,
            Map.of("X-Padding", "a".repeat(4096)), new byte[0]));
      }
      try (RawHttp connection = server.connect()) {
        answers.put("request line too long", connection.get("/" + "a".repeat(10_000)));
      }
      try (RawHttp connection = server.connect()) {
        connection.write("POST /webhooks/openphone HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        answers.put("malformed request", connection.read());
      }
      assertThat(answers.get("header too large").status()).isEqualTo(431);
      assertThat(answers.get("request line too long").status()).isEqualTo(414);
      assertThat(answers.get("malformed request").status()).isEqualTo(400);
      answers.forEach((what, response) -> {
        assertThat(response.header("X-Request-Id")).as("X-Request-Id on the answer to a %s: %s", what, response)
            .isNotBlank();
        assertThat(response.text()).as("body of the answer to a %s", what).isNotEmpty();
        assertThat(HardenedServer.errorBody(response).getString("error")).isNotBlank();
      });
    }
  }

  /**
   * The request timeout is there for a request that takes too long to arrive. Once the body is in,
   * waiting for a critical event's processing (within process.critical-budget) must not turn a
   * stored event's answer into a 408.
   */
  @Test
  void theRequestTimeoutDoesNotCutOffAStoredEventWhileItsProcessingIsAwaited() throws Exception {
    io.webhookd.process.HandlerRegistry slow = new io.webhookd.process.HandlerRegistry().register("message.received",
        (event, envelope, tx) -> {
          try {
            Thread.sleep(1_500); // the handler's own slow work (on a worker thread)
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return io.vertx.core.Future.succeededFuture(new io.vertx.core.json.JsonObject().put("handled", true));
        });
    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_REQUEST_TIMEOUT", "1s", "WEBHOOKD_PROCESS_CRITICAL_BUDGET", "4s"), slow)) {
      String eventId = HardenedServer.newEventId();
      byte[] body = new io.vertx.core.json.JsonObject()
          .put("id", eventId).put("type", "message.received").put("createdAt", "2026-04-13T12:00:00.000Z")
          .put("data", new io.vertx.core.json.JsonObject().put("object", new io.vertx.core.json.JsonObject()
              .put("id", "AC1").put("from", "+15555550100").put("to", "+15555550101")
              .put("direction", "incoming").put("body", "hello")))
          .encode().getBytes(StandardCharsets.UTF_8);
      RawHttp.Response response = server.postSigned(server.secret(), body);
      assertThat(response.status()).as("%s", response).isEqualTo(200);
      assertThat(response.code()).isIn("processed", "queued");
      assertThat(server.query("SELECT count(*) AS n FROM inbox_events WHERE event_id = ?", eventId)
          .get(0).get("n")).isEqualTo(1);
    }
  }

  @Test
  void aBodyTrickledSlowerThanTheRequestTimeoutGets408AndTheConnectionIsClosed() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_REQUEST_TIMEOUT", "1s", "WEBHOOKD_HTTP_IDLE_TIMEOUT", "30s"));
         RawHttp connection = server.connect()) {
      byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
      String head = "POST " + IngestVerticle.PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "X-Request-Id: slow-client-1\r\n"
          + TestSigner.OPENPHONE_HEADER + ": " + server.sign(body) + "\r\nContent-Length: " + body.length + "\r\n\r\n";
      connection.write(head.getBytes(StandardCharsets.US_ASCII));
      long started = System.nanoTime();
      Thread trickler = trickle(connection.socket().getOutputStream(), body, Duration.ofMillis(200));

      RawHttp.Response response = connection.read();
      long tookMillis = (System.nanoTime() - started) / 1_000_000;
      trickler.interrupt();

      assertThat(response.status()).as("%s", response).isEqualTo(408);
      assertThat(HardenedServer.errorBody(response).getString("error")).isEqualTo("request_timeout");
      assertThat(response.header("X-Request-Id")).isEqualTo("slow-client-1");
      assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(tookMillis).as("answered after the 1 s request timeout").isBetween(800L, 5_000L);
      assertThat(server.metric("webhook_rejected_total", "reason=request_timeout")).isEqualTo(1.0);
      assertThat(server.query("SELECT count(*) AS n FROM inbox_events").get(0).get("n")).isEqualTo(0);
      assertThat(connection.closedByServerWithin(Duration.ofSeconds(3)))
          .as("the connection is closed after the 408 (it says Connection: close)").isTrue();
    }
  }

  /**
   * Slowloris: headers sent a byte at a time, far faster than the idle timeout. The listener sees no
   * message until the head is complete, so the idle timeout bounds the head (here 1 s, with a request
   * timeout of 30 s that would not), and one client cannot hold a connection by trickling headers.
   */
  @Test
  void headersTrickledByteByByteAreCutOffByTheIdleTimeout() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_REQUEST_TIMEOUT", "30s", "WEBHOOKD_HTTP_IDLE_TIMEOUT", "1s"));
         RawHttp connection = server.connect()) {
      connection.write(("POST " + IngestVerticle.PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n").getBytes(StandardCharsets.US_ASCII));
      long started = System.nanoTime();
      boolean closed = false;
      // One header byte every 250 ms (four times within the 1 s idle timeout) for at most 6 s.
      while (!closed && System.nanoTime() - started < Duration.ofSeconds(6).toNanos()) {
        try {
          connection.write(new byte[] {'X'});
        } catch (IOException e) {
          closed = true;
          break;
        }
        closed = connection.closedByServerWithin(Duration.ofMillis(250));
      }
      long tookMillis = (System.nanoTime() - started) / 1_000_000;
      assertThat(closed).as("connection closed by the server while headers trickled in (after %d ms)", tookMillis)
          .isTrue();
      assertThat(tookMillis).isBetween(700L, 4_000L);
    }
  }

  @Test
  void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_IDLE_TIMEOUT", "1s"))) {
      try (RawHttp afterARequest = server.connect()) {
        assertThat(afterARequest.get("/nope").status()).isEqualTo(404);
        long started = System.nanoTime();
        assertThat(afterARequest.closedByServerWithin(Duration.ofSeconds(5))).isTrue();
        assertThat((System.nanoTime() - started) / 1_000_000).as("not closed before the idle timeout").isGreaterThan(700);
      }
      try (RawHttp silent = server.connect()) {
        assertThat(silent.closedByServerWithin(Duration.ofSeconds(5))).as("a connection that never says anything").isTrue();
      }
    }
  }

  @Test
  void theConnectionOverMaxConnectionsGets503AndIsClosed() throws Exception {
    try (HardenedServer server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_MAX_CONNECTIONS", "3"))) {
      List<RawHttp> open = new ArrayList<>();
      boolean fourthClosed;
      try {
        for (int i = 0; i < 3; i++) {
          RawHttp connection = server.connect();
          open.add(connection);
          assertThat(connection.get("/nope").status()).as("connection %d", i + 1).isEqualTo(404);
        }
        try (RawHttp fourth = server.connect()) {
          RawHttp.Response refused = fourth.send("GET", "/nope", Map.of("X-Request-Id", "fourth"), null);
          assertThat(refused.status()).as("%s", refused).isEqualTo(503);
          assertThat(HardenedServer.errorBody(refused).getString("error")).isEqualTo("too_many_connections");
          assertThat(refused.header("X-Request-Id")).isEqualTo("fourth");
          assertThat(refused.header("Connection")).isEqualToIgnoringCase("close");
          fourthClosed = fourth.closedByServerWithin(Duration.ofSeconds(3));
        }
        // The first three keep working.
        for (RawHttp connection : open) {
          assertThat(connection.get("/nope").status()).isEqualTo(404);
        }
        open.remove(0).close();
        Poll.until("a new connection to be served once one closed", Duration.ofSeconds(5), () -> {
          try (RawHttp again = server.connect()) {
            return again.get("/nope").status();
          }
        }, status -> status == 404);
        assertThat(server.metric("webhook_rejected_total", "reason=too_many_connections")).isGreaterThanOrEqualTo(1.0);
        assertThat(fourthClosed).as("the connection over the cap is closed after its 503 (it says Connection: close)")
            .isTrue();
      } finally {
        for (RawHttp connection : open) {
          connection.close();
        }
      }
    }
  }

  /** Writes {@code body} one byte per {@code pace} until done, interrupted or the connection breaks. */
  static Thread trickle(OutputStream out, byte[] body, Duration pace) {
    Thread thread = new Thread(() -> {
      try {
        for (byte b : body) {
          Thread.sleep(pace.toMillis()); // the client's pace, not a synchronisation
          out.write(b);
          out.flush();
        }
      } catch (InterruptedException | IOException e) {
        // done: interrupted by the test, or the server closed the connection
      }
    }, "trickle");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
