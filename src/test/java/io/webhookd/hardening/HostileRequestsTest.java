package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.event.ContentHash;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.TestSigner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.provider.ArgumentsSource;

/**
 * A table of hostile requests against one running service, each written byte for byte on a
 * connection of its own, each with the status it must get. After every one the service must still
 * answer (a signed webhook is accepted, {@code /health} on the management port is 200), and at the
 * end the store must hold nothing that was not authenticated: {@code inbox_events} only the events
 * the test signed, {@code rejected_requests} only signed bodies that could not be read.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileRequestsTest {

  private static final Path UPLOADS = Path.of("file-uploads");

  @TempDir
  static Path dir;

  private static HardenedServer server;
  private static boolean uploadsExistedBefore;
  /** Event ids of the events this test signed and expects stored. */
  private static final Set<String> signedEvents = ConcurrentHashMap.newKeySet();
  /** SHA-256 of the signed bodies that cannot be read (the only ones rejected_requests may keep). */
  private static final Set<String> signedUnreadable = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void start() throws Exception {
    uploadsExistedBefore = Files.exists(UPLOADS);
    server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_REQUEST_TIMEOUT", "1s",
        "WEBHOOKD_HTTP_IDLE_TIMEOUT", "10s"));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** One hostile exchange: writes what it likes on the connection and reads the answer. */
  @FunctionalInterface
  interface Exchange {
    RawHttp.Response run(RawHttp connection) throws Exception;
  }

  /**
   * @param expected  the acceptable statuses; {@link #CLOSED} for "closed without an answer"
   * @param mustClose whether the server must close the connection after answering
   */
  record Hostile(Set<Integer> expected, boolean mustClose, Exchange exchange) {
    Hostile(int expected, Exchange exchange) {
      this(Set.of(expected), false, exchange);
    }
  }

  /** Stands for "the server closed the connection without an answer". */
  static final int CLOSED = -1;

  static final class Table implements ArgumentsProvider {
    @Override
    public Stream<? extends Arguments> provideArguments(ExtensionContext context) {
      return table().entrySet().stream().map(e -> Arguments.of(Named.of(e.getKey(), e.getValue())));
    }
  }

  @ParameterizedTest(name = "{0}")
  @ArgumentsSource(Table.class)
  @Order(1)
  void hostileRequestGetsItsStatusAndTheServiceCarriesOn(Hostile hostile) throws Exception {
    RawHttp.Response response;
    try (RawHttp connection = server.connect()) {
      try {
        response = hostile.exchange().run(connection);
      } catch (java.io.EOFException e) {
        response = new RawHttp.Response("-", CLOSED, Map.of(), new byte[0]);
      }
      assertThat(response.status()).as("%s", response).isIn(hostile.expected());
      if (hostile.mustClose() && response.status() != CLOSED) {
        assertThat(connection.closedByServerWithin(Duration.ofSeconds(3)))
            .as("the connection is closed after the answer").isTrue();
      }
    }
    String text = response.text();
    assertThat(text).as("no internal detail").doesNotContain("Exception").doesNotContain("at io.")
        .doesNotContain("netty").doesNotContain("vertx");
    if (!text.isEmpty() && response.status() >= 400) {
      assertThat(HardenedServer.errorBody(response).getString("error")).isNotBlank();
    }

    // The service carries on: a signed webhook is accepted, /health answers.
    byte[] probe = signedEventBody();
    try (RawHttp connection = server.connect()) {
      RawHttp.Response accepted = connection.post(IngestVerticle.PATH, probe, signed(probe));
      assertThat(accepted.status()).as("a signed webhook after the hostile request: %s", accepted).isEqualTo(200);
    }
    assertThat(server.health()).isEqualTo(200);
  }

  @Test
  @Order(2)
  void nothingUnauthenticatedWasStored() {
    Set<String> stored = server.query("SELECT event_id FROM inbox_events").stream()
        .map(row -> (String) row.get("event_id")).collect(Collectors.toSet());
    assertThat(stored).as("inbox_events").isSubsetOf(signedEvents);
    Set<String> rejected = server.query("SELECT body_sha256 FROM rejected_requests").stream()
        .map(row -> (String) row.get("body_sha256")).collect(Collectors.toSet());
    assertThat(rejected).as("rejected_requests (by body hash)").isSubsetOf(signedUnreadable);
    assertThat(rejected).as("each signed, unreadable body kept once for an operator")
        .containsExactlyInAnyOrderElementsOf(signedUnreadable);
    assertThat(Files.exists(UPLOADS) && !uploadsExistedBefore).as("a file-uploads directory was created").isFalse();
  }

  // ---- the table ---------------------------------------------------------------------------------

  static Map<String, Hostile> table() {
    Map<String, Hostile> t = new LinkedHashMap<>();
    byte[] twoMiB = new byte[2 << 20];

    // Size
    t.put("2 MiB body, unsigned", new Hostile(413, c -> c.post(IngestVerticle.PATH, twoMiB, Map.of())));
    t.put("2 MiB body, signed", new Hostile(413, c -> c.post(IngestVerticle.PATH, twoMiB, signed(twoMiB))));
    t.put("Content-Length of 2 MiB announced, nothing sent", new Hostile(413, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Content-Type: application/json", "Content-Length: 2097152"))));
    t.put("Expect: 100-continue with 2 MiB announced", new Hostile(413, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Expect: 100-continue", "Content-Length: 2097152"))));
    t.put("chunked body over the limit", new Hostile(413, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Transfer-Encoding: chunked"), chunked(twoMiB, 65536))));
    t.put("one 32 KiB header", new Hostile(431, c -> c.post(IngestVerticle.PATH, "{}".getBytes(),
        Map.of("X-Padding", "p".repeat(32 * 1024)))));
    t.put("3000 small headers", new Hostile(431, c -> {
      List<String> headers = new ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        headers.add("X-H" + i + ": v");
      }
      headers.add("Content-Length: 0");
      return raw(c, head("POST", IngestVerticle.PATH, headers.toArray(String[]::new)));
    }));
    t.put("10 KiB request target", new Hostile(414, c -> c.get("/" + "a".repeat(10 * 1024))));

    // Signatures
    t.put("garbled openphone-signature", new Hostile(401, c -> c.post(IngestVerticle.PATH, eventBody(),
        Map.of(TestSigner.OPENPHONE_HEADER, "hmac;;;;,%%%;1;;"))));
    t.put("openphone-signature with a 19-digit timestamp", new Hostile(401, c -> c.post(IngestVerticle.PATH,
        eventBody(), Map.of(TestSigner.OPENPHONE_HEADER, "hmac;1;9999999999999999999;AAAA"))));
    t.put("webhook-timestamp of 19 digits", new Hostile(401, c -> c.post(IngestVerticle.PATH, eventBody(),
        Map.of("webhook-id", "msg_1", "webhook-timestamp", "9999999999999999999", "webhook-signature", "v1,AAAA"))));
    t.put("X-OpenPhone-Timestamp of 19 digits", new Hostile(401, c -> c.post(IngestVerticle.PATH, eventBody(),
        Map.of("X-OpenPhone-Signature", "00ff", "X-OpenPhone-Timestamp", "9999999999999999999"))));
    t.put("webhook-id repeated", new Hostile(401, c -> {
      byte[] body = eventBody();
      long now = System.currentTimeMillis() / 1000;
      return raw(c, head("POST", IngestVerticle.PATH, "Content-Type: application/json",
          "webhook-id: msg_a", "webhook-id: msg_b", "webhook-timestamp: " + now,
          "webhook-signature: " + TestSigner.standardSignature(server.secret(), "msg_a", now, body),
          "Content-Length: " + body.length), body);
    }));
    t.put("X-OpenPhone-Signature repeated (both valid)", new Hostile(401, c -> {
      byte[] body = eventBody();
      long now = System.currentTimeMillis() / 1000;
      String signature = TestSigner.seedSignature(server.secret(), body, now);
      return raw(c, head("POST", IngestVerticle.PATH, "Content-Type: application/json",
          "X-OpenPhone-Signature: " + signature, "X-OpenPhone-Signature: " + signature,
          "X-OpenPhone-Timestamp: " + now, "Content-Length: " + body.length), body);
    }));
    t.put("signature of another body", new Hostile(401, c -> c.post(IngestVerticle.PATH, eventBody(),
        signed(eventBody()))));
    t.put("stale signature", new Hostile(401, c -> {
      byte[] body = eventBody();
      RawHttp.Response response = c.post(IngestVerticle.PATH, body, Map.of(TestSigner.OPENPHONE_HEADER,
          TestSigner.openPhoneSignature(server.secret(), body, System.currentTimeMillis() - 3_600_000)));
      assertThat(response.code()).isEqualTo("stale_timestamp");
      return response;
    }));
    t.put("a valid seed signature under a bogus webhook-signature (judged by Standard Webhooks alone)",
        new Hostile(401, c -> {
          byte[] body = eventBody();
          Map<String, String> headers = new LinkedHashMap<>();
          long now = System.currentTimeMillis() / 1000;
          headers.put("webhook-signature", "v1,AAAA");
          headers.put("X-OpenPhone-Signature", TestSigner.seedSignature(server.secret(), body, now));
          headers.put("X-OpenPhone-Timestamp", Long.toString(now));
          return c.post(IngestVerticle.PATH, body, headers);
        }));
    t.put("3000 signature entries", new Hostile(401, c -> c.post(IngestVerticle.PATH, eventBody(),
        Map.of(TestSigner.OPENPHONE_HEADER, ("hmac;1;" + System.currentTimeMillis() + ";AAAA,").repeat(300)))));

    // Content types
    t.put("signed JSON as text/plain", new Hostile(200, c -> signedPost(c, "text/plain")));
    t.put("signed JSON without Content-Type", new Hostile(200, c -> signedPost(c, null)));
    t.put("signed JSON as application/json; charset=utf-16", new Hostile(200,
        c -> signedPost(c, "application/json; charset=utf-16")));
    t.put("signed JSON as application/x-www-form-urlencoded", new Hostile(200,
        c -> signedPost(c, "application/x-www-form-urlencoded")));
    // The multipart decoder consumes a multipart body, so no signature over the raw bytes can match:
    // refused like an unsigned request (OpenPhone always sends application/json).
    t.put("signed JSON as multipart/form-data", new Hostile(401,
        c -> signedPost(c, "multipart/form-data; boundary=xyz")));
    t.put("unsigned multipart upload of a file", new Hostile(401, c -> {
      byte[] body = ("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../evil.sh\"\r\n"
          + "Content-Type: application/octet-stream\r\n\r\n#!/bin/sh\r\n--xyz--\r\n").getBytes(StandardCharsets.UTF_8);
      return raw(c, head("POST", IngestVerticle.PATH, "Content-Type: multipart/form-data; boundary=xyz",
          "Content-Length: " + body.length), body);
    }));
    t.put("Content-Encoding: gzip with garbage, unsigned", new Hostile(401, c -> c.post(IngestVerticle.PATH,
        "not gzip".getBytes(), Map.of("Content-Encoding", "gzip"))));

    // Bytes that are not text
    t.put("signed body with invalid UTF-8", new Hostile(400, c -> signedUnreadable(c,
        concat("{\"type\":\"message.received\",\"id\":\"".getBytes(), new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF},
            "\"}".getBytes()), "invalid_json")));
    t.put("unsigned body with invalid UTF-8", new Hostile(401, c -> c.post(IngestVerticle.PATH,
        new byte[] {'{', (byte) 0xFF, (byte) 0xFE, '}'}, Map.of())));
    t.put("signed body with NUL bytes", new Hostile(400, c -> signedUnreadable(c,
        "{\"type\":\"message\u0000received\"}\u0000".getBytes(StandardCharsets.UTF_8), "invalid_json")));
    t.put("signed JSON that is not an envelope", new Hostile(400, c -> signedUnreadable(c,
        ("{\"nothing\":" + System.nanoTime() + "}").getBytes(), "invalid_envelope")));
    t.put("NUL byte in a header value", new Hostile(400, c -> raw(c,
        head("POST", IngestVerticle.PATH, "X-Thing: a\u0000b", "Content-Length: 2"), "{}".getBytes())));
    t.put("bytes 0x80-0xFF in header values", new Hostile(401, c -> raw(c, concat(
        "POST /webhooks/openphone HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: ".getBytes(),
        new byte[] {(byte) 0xC3, (byte) 0xA9, (byte) 0xFF},
        "\r\nopenphone-signature: hmac;1;1;".getBytes(), new byte[] {(byte) 0xFE},
        "\r\nContent-Length: 2\r\n\r\n{}".getBytes()))));
    t.put("signed JSON nested 100000 levels deep", new Hostile(400, c -> signedUnreadable(c,
        ("[".repeat(100_000) + "]".repeat(100_000)).getBytes(), "invalid_json")));
    t.put("unsigned JSON objects nested 100000 levels deep", new Hostile(401, c -> c.post(IngestVerticle.PATH,
        ("{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000)).getBytes(), Map.of())));

    // Bodies that do not arrive as announced
    t.put("body trickled in byte by byte", new Hostile(408, c -> {
      byte[] body = signedEventBody();
      c.write(head("POST", IngestVerticle.PATH, "Content-Type: application/json",
          TestSigner.OPENPHONE_HEADER + ": " + server.sign(body), "Content-Length: " + body.length));
      Thread trickle = RequestLimitsTest.trickle(c.socket().getOutputStream(), body, Duration.ofMillis(100));
      try {
        return c.read();
      } finally {
        trickle.interrupt();
      }
    }));
    t.put("Content-Length larger than the body", new Hostile(408, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Content-Length: 100"), "{}".getBytes())));
    t.put("Content-Length smaller than the body (the rest is a second, garbled request)", new Hostile(401,
        c -> raw(c, head("POST", IngestVerticle.PATH, "Content-Length: 2"), "{}garbage garbage\r\n\r\n".getBytes())));
    t.put("negative Content-Length", new Hostile(400, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Content-Length: -1"), "{}".getBytes())));
    t.put("two different Content-Length headers", new Hostile(400, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Content-Length: 2", "Content-Length: 3"), "{}x".getBytes())));
    // RFC 9112 6.3: rejected, or read by Transfer-Encoding alone (here: an empty, unsigned body).
    // (The RFC also wants the connection closed afterwards; Netty drops the Content-Length and keeps
    // it open, which the service cannot see: reported, not asserted.)
    t.put("Content-Length and Transfer-Encoding together", new Hostile(Set.of(400, 401), false, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Content-Length: 4", "Transfer-Encoding: chunked"),
        "0\r\n\r\n".getBytes())));
    // Broken framing: a 400, or the connection closed at once.
    t.put("invalid chunk size", new Hostile(Set.of(400, CLOSED), false, c -> raw(c,
        head("POST", IngestVerticle.PATH, "Transfer-Encoding: chunked"), "zz\r\n{}\r\n0\r\n\r\n".getBytes())));
    t.put("signed body, chunked", new Hostile(200, c -> {
      byte[] body = signedEventBody();
      return raw(c, head("POST", IngestVerticle.PATH, "Content-Type: application/json", "Transfer-Encoding: chunked",
          TestSigner.OPENPHONE_HEADER + ": " + server.sign(body)), chunked(body, 7));
    }));

    // Protocol versions and methods
    t.put("HTTP/1.0, signed", new Hostile(200, c -> {
      byte[] body = signedEventBody();
      return raw(c, ("POST /webhooks/openphone HTTP/1.0\r\nContent-Type: application/json\r\n"
          + TestSigner.OPENPHONE_HEADER + ": " + server.sign(body) + "\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII), body);
    }));
    t.put("HTTP/1.0, unsigned", new Hostile(401, c -> raw(c,
        "POST /webhooks/openphone HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}".getBytes())));
    t.put("HTTP/1.1 without Host", new Hostile(400, c -> raw(c,
        "POST /webhooks/openphone HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".getBytes())));
    t.put("HTTP/2.0 in a request line", new Hostile(Set.of(400, 501, 505), false, c -> raw(c,
        "POST /webhooks/openphone HTTP/2.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}".getBytes())));
    t.put("HTTP/9.9", new Hostile(Set.of(400, 501, 505), false, c -> raw(c, "GET / HTTP/9.9\r\nHost: x\r\n\r\n".getBytes())));
    t.put("not HTTP at all", new Hostile(400, c -> raw(c, "hello there\r\n\r\n".getBytes())));
    t.put("method FOO", new Hostile(405, c -> c.send("FOO", IngestVerticle.PATH, Map.of(), "{}".getBytes())));
    t.put("method PROPFIND", new Hostile(405, c -> c.send("PROPFIND", IngestVerticle.PATH, Map.of(), null)));
    t.put("method DELETE", new Hostile(405, c -> c.send("DELETE", IngestVerticle.PATH, Map.of(), null)));
    t.put("method TRACE", new Hostile(405, c -> c.send("TRACE", IngestVerticle.PATH, Map.of(), null)));
    t.put("method of 1000 letters", new Hostile(405, c -> c.send("A".repeat(1000), IngestVerticle.PATH, Map.of(), null)));
    t.put("method with a control character", new Hostile(400, c -> raw(c,
        "PO\u0001ST /webhooks/openphone HTTP/1.1\r\nHost: x\r\n\r\n".getBytes())));

    // Paths
    t.put("path traversal /../../etc/passwd", new Hostile(404, c -> c.get("/../../etc/passwd")));
    t.put("path traversal after the webhook path", new Hostile(404, c -> c.get("/webhooks/openphone/../../../etc/passwd")));
    t.put("encoded path traversal", new Hostile(404, c -> c.get("/%2e%2e/%2e%2e/etc/passwd")));
    t.put("double-encoded path traversal", new Hostile(404, c -> c.get("/%252e%252e/%252e%252e/etc/passwd")));
    t.put("backslash traversal", new Hostile(404, c -> c.get("/..\\..\\etc\\passwd")));
    t.put("encoded NUL after the webhook path, unsigned POST", new Hostile(404, c -> c.post("/webhooks/openphone%00",
        "{}".getBytes(), Map.of())));
    t.put("dot segments leading to the webhook path, unsigned POST", new Hostile(401, c -> c.post(
        "/webhooks/x/../openphone", "{}".getBytes(), Map.of())));
    t.put("absolute-form request target, unsigned POST", new Hostile(401, c -> c.post(
        "http://evil.example/webhooks/openphone", "{}".getBytes(), Map.of())));
    return t;
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** An event body the test does not sign validly: it must never be stored. */
  private static byte[] eventBody() {
    return HardenedServer.newEventBody(HardenedServer.newEventId());
  }

  /** An event body the test signs validly: it may be stored. */
  private static byte[] signedEventBody() {
    String id = HardenedServer.newEventId();
    signedEvents.add(id);
    return HardenedServer.newEventBody(id);
  }

  private static Map<String, String> signed(byte[] body) {
    return Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body));
  }

  /** A signed, readable event with the given Content-Type; remembered as one that may be stored. */
  private static RawHttp.Response signedPost(RawHttp c, String contentType) throws IOException {
    byte[] body = signedEventBody();
    List<String> headers = new ArrayList<>();
    if (contentType != null) {
      headers.add("Content-Type: " + contentType);
    }
    headers.add(TestSigner.OPENPHONE_HEADER + ": " + server.sign(body));
    headers.add("Content-Length: " + body.length);
    return raw(c, head("POST", IngestVerticle.PATH, headers.toArray(String[]::new)), body);
  }

  /** A signed body the service cannot read: it may keep it in rejected_requests, and says why. */
  private static RawHttp.Response signedUnreadable(RawHttp c, byte[] body, String code) throws IOException {
    signedUnreadable.add(ContentHash.of(body));
    RawHttp.Response response = c.post(IngestVerticle.PATH, body, signed(body));
    if (response.status() == 400) {
      assertThat(response.code()).isEqualTo(code);
    }
    return response;
  }

  private static byte[] head(String method, String target, String... headers) {
    StringBuilder text = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (String header : headers) {
      text.append(header).append("\r\n");
    }
    return text.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static RawHttp.Response raw(RawHttp c, byte[]... parts) throws IOException {
    for (byte[] part : parts) {
      c.write(part);
    }
    return c.read();
  }

  private static byte[] chunked(byte[] body, int chunk) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < body.length; i += chunk) {
      int n = Math.min(chunk, body.length - i);
      out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, i, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

}
