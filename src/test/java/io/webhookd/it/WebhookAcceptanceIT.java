package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.vertx.core.json.JsonObject;
import io.webhookd.it.InboxDb.Rejected;
import io.webhookd.it.InboxDb.StoredEvent;
import io.webhookd.it.WebhookClient.Answer;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.TestSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the running jar answers to webhooks it accepts, duplicates and malformed requests, and what
 * it stores. One server for the whole class: two secrets configured at once, a 4 KiB body limit.
 * Every test uses event ids of its own, so the tests do not depend on each other.
 */
class WebhookAcceptanceIT {

  private static final String SECRET_A = TestSigner.newOpenPhoneSecret();
  private static final String SECRET_B = TestSigner.newOpenPhoneSecret();

  @TempDir
  static Path dataDir;
  static ServerProcess server;
  static WebhookClient client;

  @BeforeAll
  static void startServer() {
    server = ServerProcess.builder(dataDir).label("acceptance")
        .secrets(SECRET_A, SECRET_B)
        .env("WEBHOOKD_HTTP_MAX_BODY_SIZE", "4KiB")
        .start();
    client = new WebhookClient(server);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  // ---- 1. the three schemes, with the fixture bodies -----------------------------------------

  /** Every fixture, sent verbatim once, with the scheme its sender generation uses. */
  static Stream<Arguments> fixturesWithTheirScheme() {
    return Stream.of(
        arguments(Fixtures.LEGACY_V2_MESSAGE_RECEIVED, Scheme.OPENPHONE),
        arguments(Fixtures.LEGACY_V2_MESSAGE_DELIVERED, Scheme.OPENPHONE),
        arguments(Fixtures.LEGACY_V3_CALL_COMPLETED, Scheme.OPENPHONE),
        arguments(Fixtures.LEGACY_V3_CALL_RECORDING_COMPLETED, Scheme.OPENPHONE),
        arguments(Fixtures.LEGACY_V3_CONTACT_UPDATED, Scheme.OPENPHONE),
        arguments(Fixtures.API_V4_MESSAGE_RECEIVED, Scheme.OPENPHONE),
        arguments(Fixtures.LEGACY_V3_CALL_RINGING, Scheme.SEED),
        arguments(Fixtures.V2026_MESSAGE_RECEIVED, Scheme.STANDARD_WEBHOOKS));
  }

  @ParameterizedTest(name = "{0} signed with {1}")
  @MethodSource("fixturesWithTheirScheme")
  void fixtureIsAcceptedAndStoredByteForByte(String fixture, Scheme scheme) throws Exception {
    byte[] body = Fixtures.bytes(fixture);
    String webhookId = Bodies.uniqueWebhookId();
    String expectedId = scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : Bodies.fixtureId(fixture);

    Answer answer = client.postWebhook(body, scheme.sign(SECRET_A, body, webhookId));

    assertThat(answer.status()).as("%s", answer).isEqualTo(200);
    assertThat(answer.contentType()).startsWith("application/json");
    if (Bodies.isCritical(fixture)) {
      // An inbound text is answered once processed (within the critical budget), with the outcome.
      assertThat(answer.json().getString("status")).as("%s", answer).isEqualTo("processed");
      assertThat(answer.json().getString("event_id")).isEqualTo(expectedId);
      assertThat(answer.json().getJsonObject("result")).as("%s", answer).isNotNull();
    } else {
      assertThat(answer.json()).isEqualTo(new JsonObject().put("status", "queued").put("event_id", expectedId));
    }
    assertStoredExactly(expectedId, body, scheme);
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.event(expectedId).orElseThrow().type()).isEqualTo(Fixtures.json(fixture).getString("type"));
    }
  }

  /** CRLF, pretty-printing, raw UTF-8, JSON escapes and trailing blanks all survive untouched. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Scheme.class)
  void unusualBytesAreStoredExactlyAsSent(Scheme scheme) throws Exception {
    String id = Bodies.uniqueId("bytes");
    byte[] body = ("{\r\n  \"id\" : \"" + id + "\",\r\n\t\"type\":\"message.delivered\",   "
        + "\"createdAt\":\"2022-01-23T16:55:52.557Z\",\r\n  \"data\": {\"object\": {\"id\":\"AC" + id + "\", "
        + "\"from\":\"+18005550100\", \"to\":\"+18885550101\", "
        + "\"body\":\"Grüße 👋 \\u00e9\\n\\\"quoted\\\"\", \"conversationId\":\"CNbytes\"}}\r\n}\r\n  \n")
        .getBytes(StandardCharsets.UTF_8);
    String webhookId = Bodies.uniqueWebhookId();
    String expectedId = scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : id;

    Answer answer = client.postWebhook(body, scheme.sign(SECRET_A, body, webhookId));

    assertThat(answer.status()).as("%s", answer).isEqualTo(200);
    assertThat(answer.json().getString("event_id")).isEqualTo(expectedId);
    assertStoredExactly(expectedId, body, scheme);
  }

  // ---- 3. two secrets at once ------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @EnumSource(Scheme.class)
  void eventsSignedWithEitherConfiguredSecretAreAccepted(Scheme scheme) throws Exception {
    Map<String, String> secrets = Map.of("a", SECRET_A, "b", SECRET_B);
    for (Map.Entry<String, String> secret : secrets.entrySet()) {
      String id = Bodies.uniqueId("rotation");
      String webhookId = Bodies.uniqueWebhookId();
      byte[] body = Bodies.eventFor(scheme, id);
      String expectedId = scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : id;

      Answer answer = client.postWebhook(body, scheme.sign(secret.getValue(), body, webhookId));

      assertThat(answer.status()).as("signed with secret %s: %s", secret.getKey(), answer).isEqualTo(200);
      assertThat(answer.json().getString("status")).isEqualTo("queued");
      assertStoredExactly(expectedId, body, scheme);
    }
    // ...while a secret that is not configured still is not.
    byte[] body = Bodies.eventFor(scheme, Bodies.uniqueId("rotation-other"));
    Answer refused = client.postWebhook(body, scheme.sign(TestSigner.newOpenPhoneSecret(), body,
        Bodies.uniqueWebhookId()));
    assertThat(refused.status()).as("%s", refused).isEqualTo(401);
    assertThat(refused.code()).isEqualTo("invalid_signature");
  }

  // ---- 4. duplicates -------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @EnumSource(Scheme.class)
  void sameEventSentFiveTimesInARowIsQueuedOnceThenIgnored(Scheme scheme) throws Exception {
    String id = Bodies.uniqueId("dup-seq");
    String webhookId = Bodies.uniqueWebhookId();
    byte[] body = Bodies.eventFor(scheme, id);
    String expectedId = scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : id;

    List<String> statuses = new ArrayList<>();
    for (int delivery = 0; delivery < 5; delivery++) {
      // Each retry is signed afresh, as the sender does; Standard Webhooks keeps its webhook-id.
      Instant signedAt = Instant.now().minusSeconds(delivery);
      Answer answer = client.postWebhook(body, scheme.sign(SECRET_A, body, signedAt, webhookId));
      assertThat(answer.status()).as("delivery %d: %s", delivery + 1, answer).isEqualTo(200);
      assertThat(answer.json().getString("event_id")).isEqualTo(expectedId);
      statuses.add(answer.json().getString("status"));
    }

    assertThat(statuses).containsExactly(
        "queued", "duplicate_ignored", "duplicate_ignored", "duplicate_ignored", "duplicate_ignored");
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount(expectedId)).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Scheme.class)
  void sameEventSentFiveTimesAtOnceIsQueuedExactlyOnce(Scheme scheme) throws Exception {
    String id = Bodies.uniqueId("dup-concurrent");
    String webhookId = Bodies.uniqueWebhookId();
    byte[] body = Bodies.eventFor(scheme, id);
    String expectedId = scheme == Scheme.STANDARD_WEBHOOKS ? webhookId : id;

    List<CompletableFuture<Answer>> inFlight = IntStream.range(0, 5)
        .mapToObj(i -> client.postWebhookAsync(body, scheme.sign(SECRET_A, body, webhookId)))
        .toList();
    List<Answer> answers = inFlight.stream().map(CompletableFuture::join).toList();

    assertThat(answers).allSatisfy(answer -> {
      assertThat(answer.status()).as("%s", answer).isEqualTo(200);
      assertThat(answer.json().getString("event_id")).isEqualTo(expectedId);
    });
    List<String> statuses = answers.stream().map(a -> a.json().getString("status")).toList();
    assertThat(Collections.frequency(statuses, "queued")).as("%s", statuses).isEqualTo(1);
    assertThat(Collections.frequency(statuses, "duplicate_ignored")).as("%s", statuses).isEqualTo(4);
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount(expectedId)).isEqualTo(1);
    }
  }

  @Test
  void eventWithoutIdIsIdentifiedByItsFieldsAndStoredOnce() throws Exception {
    JsonObject envelope = Fixtures.json(Fixtures.LEGACY_V2_MESSAGE_DELIVERED);
    envelope.remove("id");
    envelope.getJsonObject("data").getJsonObject("object").put("body", "no id " + Bodies.uniqueId("noid"));
    byte[] body = Bodies.bytes(envelope);

    Answer first = client.postWebhook(body, Scheme.OPENPHONE.sign(SECRET_A, body, null));
    assertThat(first.status()).as("%s", first).isEqualTo(200);
    assertThat(first.json().getString("status")).isEqualTo("queued");
    String eventId = first.json().getString("event_id");
    assertThat(eventId).startsWith("sha256:");

    Answer retry = client.postWebhook(body, Scheme.OPENPHONE.sign(SECRET_A, body, Instant.now().minusSeconds(1), null));
    assertThat(retry.status()).as("%s", retry).isEqualTo(200);
    assertThat(retry.json()).isEqualTo(new JsonObject().put("status", "duplicate_ignored").put("event_id", eventId));

    // Other bytes, same identifying fields (type, createdAt, from, to, text): still the same event.
    byte[] reformatted = envelope.encodePrettily().getBytes(StandardCharsets.UTF_8);
    Answer sameFields = client.postWebhook(reformatted, Scheme.OPENPHONE.sign(SECRET_A, reformatted, null));
    assertThat(sameFields.status()).as("%s", sameFields).isEqualTo(200);
    assertThat(sameFields.json()).isEqualTo(new JsonObject().put("status", "duplicate_ignored").put("event_id", eventId));

    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount(eventId)).isEqualTo(1);
      assertThat(db.event(eventId).orElseThrow().body()).isEqualTo(body);
    }
  }

  // ---- 6. other answers ----------------------------------------------------------------------

  @Test
  void bodyOverTheLimitIsRefusedWith413Json() throws Exception {
    String id = Bodies.uniqueId("too-large");
    JsonObject envelope = Fixtures.json(Fixtures.LEGACY_V2_MESSAGE_RECEIVED).put("id", id);
    envelope.getJsonObject("data").getJsonObject("object").put("body", "x".repeat(8 * 1024));
    byte[] body = Bodies.bytes(envelope);
    assertThat(body.length).isGreaterThan(8 * 1024);

    Answer answer = client.postWebhook(body, Scheme.OPENPHONE.sign(SECRET_A, body, null));

    assertThat(answer.status()).as("%s", answer).isEqualTo(413);
    assertThat(answer.contentType()).startsWith("application/json");
    assertThat(answer.code()).isEqualTo("payload_too_large");
    assertNoInternals(answer);
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount(id)).isZero();
    }
  }

  @Test
  void signedBodyThatIsNotJsonIsRefusedWith400AndKeptOnce() throws Exception {
    byte[] body = ("this is not JSON " + Bodies.uniqueId("not-json")).getBytes(StandardCharsets.UTF_8);

    for (int delivery = 1; delivery <= 2; delivery++) {
      Answer answer = client.postWebhook(body,
          Scheme.OPENPHONE.sign(SECRET_A, body, Instant.now().minusSeconds(delivery), null));
      assertThat(answer.status()).as("delivery %d: %s", delivery, answer).isEqualTo(400);
      assertThat(answer.contentType()).startsWith("application/json");
      assertThat(answer.code()).isEqualTo("invalid_json");
      assertNoInternals(answer);
    }

    String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.rejectedCount(sha256)).isEqualTo(1);
      Rejected kept = db.rejected(sha256).orElseThrow();
      assertThat(kept.timesSeen()).isEqualTo(2);
      assertThat(kept.reason()).isEqualTo("invalid_json");
      assertThat(kept.body()).isEqualTo(body);
    }
  }

  @Test
  void getOnTheWebhookPathIs405Json() {
    Answer answer = client.get(WebhookClient.WEBHOOK_PATH);

    assertThat(answer.status()).as("%s", answer).isEqualTo(405);
    assertThat(answer.contentType()).startsWith("application/json");
    assertThat(answer.json().getString("error")).isNotBlank();
    assertNoInternals(answer);
  }

  @Test
  void postToAnotherPathIs404Json() {
    byte[] body = Bodies.eventFor(Scheme.OPENPHONE, Bodies.uniqueId("elsewhere"));
    Answer answer = client.post("/other", body, Scheme.OPENPHONE.sign(SECRET_A, body, null));

    assertThat(answer.status()).as("%s", answer).isEqualTo(404);
    assertThat(answer.contentType()).startsWith("application/json");
    assertThat(answer.json().getString("error")).isNotBlank();
    assertNoInternals(answer);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static void assertStoredExactly(String eventId, byte[] body, Scheme scheme) throws Exception {
    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount(eventId)).as("rows for %s", eventId).isEqualTo(1);
      StoredEvent stored = db.event(eventId).orElseThrow();
      assertThat(stored.source()).isEqualTo("openphone");
      assertThat(stored.scheme()).isEqualTo(scheme.storedName);
      assertThat(stored.status()).isIn("pending", "processing", "processed");
      assertThat(stored.body()).as("stored body of %s", eventId).isEqualTo(body);
    }
  }

  private static void assertNoInternals(Answer answer) {
    assertThat(answer.body()).doesNotContain("Exception").doesNotContain("at io.");
  }
}
