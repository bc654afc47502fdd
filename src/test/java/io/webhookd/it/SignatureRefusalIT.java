package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.vertx.core.MultiMap;
import io.webhookd.it.WebhookClient.Answer;
import io.webhookd.testing.TestSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests that are not correctly signed, or signed at a time outside the five-minute window, are
 * refused with 401 and a JSON error, and leave nothing in the store: after the refusals the server
 * is stopped and its database checked.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SignatureRefusalIT {

  private static final String SECRET = TestSigner.newOpenPhoneSecret();
  private static final String OTHER_SECRET = TestSigner.newOpenPhoneSecret();
  private static final Duration SIX_MINUTES = Duration.ofMinutes(6);

  @TempDir
  static Path dataDir;
  static ServerProcess server;
  static WebhookClient client;

  /** The ids of refused events, checked absent at the end. */
  private static final List<String> refusedIds = new ArrayList<>();

  @BeforeAll
  static void startServer() {
    server = ServerProcess.builder(dataDir).label("refusals").secrets(SECRET).start();
    client = new WebhookClient(server);
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  /** One refused request. */
  record Refusal(byte[] body, MultiMap headers, String expectedError) {
  }

  static Stream<Arguments> refusals() {
    List<Arguments> cases = new ArrayList<>();
    for (Scheme scheme : Scheme.values()) {
      String name = scheme.storedName + ": ";

      byte[] signed = body(scheme);
      byte[] tampered = new String(signed, StandardCharsets.UTF_8)
          .replace("+18005550100", "+18005550199").getBytes(StandardCharsets.UTF_8);
      cases.add(arguments(name + "body changed after signing",
          new Refusal(tampered, scheme.sign(SECRET, signed, Bodies.uniqueWebhookId()), "invalid_signature")));

      byte[] body = body(scheme);
      cases.add(arguments(name + "signed with a secret that is not configured",
          new Refusal(body, scheme.sign(OTHER_SECRET, body, Bodies.uniqueWebhookId()), "invalid_signature")));

      body = body(scheme);
      cases.add(arguments(name + "timestamp 6 minutes old", new Refusal(body,
          scheme.sign(SECRET, body, Instant.now().minus(SIX_MINUTES), Bodies.uniqueWebhookId()), "stale_timestamp")));

      body = body(scheme);
      cases.add(arguments(name + "timestamp 6 minutes ahead", new Refusal(body,
          scheme.sign(SECRET, body, Instant.now().plus(SIX_MINUTES), Bodies.uniqueWebhookId()), "stale_timestamp")));
    }

    byte[] body = body(Scheme.OPENPHONE);
    cases.add(arguments("no signature headers at all",
        new Refusal(body, TestSigner.headers(), "invalid_signature")));

    body = body(Scheme.OPENPHONE);
    cases.add(arguments("openphone: garbled header", new Refusal(body,
        TestSigner.headers().add(TestSigner.OPENPHONE_HEADER, "hmac;1;yesterday;%%%not-base64%%%"), "invalid_signature")));

    body = body(Scheme.OPENPHONE);
    cases.add(arguments("openphone: empty header", new Refusal(body,
        TestSigner.headers().add(TestSigner.OPENPHONE_HEADER, ""), "invalid_signature")));

    body = body(Scheme.OPENPHONE);
    long now = System.currentTimeMillis();
    String digest = TestSigner.openPhoneDigest(SECRET, body, now);
    cases.add(arguments("openphone: signature moved to another timestamp", new Refusal(body,
        TestSigner.headers().add(TestSigner.OPENPHONE_HEADER, "hmac;1;" + (now - 1000) + ";" + digest),
        "invalid_signature")));

    body = body(Scheme.STANDARD_WEBHOOKS);
    cases.add(arguments("standard-webhooks: garbled webhook-signature", new Refusal(body,
        Scheme.STANDARD_WEBHOOKS.sign(SECRET, body, Bodies.uniqueWebhookId())
            .set(TestSigner.WEBHOOK_SIGNATURE, "v1,***garbled***"), "invalid_signature")));

    body = body(Scheme.STANDARD_WEBHOOKS);
    cases.add(arguments("standard-webhooks: webhook-id missing", new Refusal(body,
        Scheme.STANDARD_WEBHOOKS.sign(SECRET, body, Bodies.uniqueWebhookId()).remove(TestSigner.WEBHOOK_ID),
        "invalid_signature")));

    body = body(Scheme.STANDARD_WEBHOOKS);
    String signedId = Bodies.uniqueWebhookId();
    String swappedId = Bodies.uniqueWebhookId();
    refusedIds.add(swappedId);
    cases.add(arguments("standard-webhooks: webhook-id changed after signing", new Refusal(body,
        Scheme.STANDARD_WEBHOOKS.sign(SECRET, body, signedId).set(TestSigner.WEBHOOK_ID, swappedId),
        "invalid_signature")));

    body = body(Scheme.SEED);
    cases.add(arguments("seed: garbled X-OpenPhone-Signature", new Refusal(body,
        Scheme.SEED.sign(SECRET, body, null).set(TestSigner.SEED_SIGNATURE, "not-hex-at-all"), "invalid_signature")));

    body = body(Scheme.SEED);
    cases.add(arguments("seed: X-OpenPhone-Timestamp missing", new Refusal(body,
        Scheme.SEED.sign(SECRET, body, null).remove(TestSigner.SEED_TIMESTAMP), "invalid_signature")));

    return cases.stream();
  }

  @Order(1)
  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void refusedWith401(String name, Refusal refusal) {
    Answer answer = client.postWebhook(refusal.body(), refusal.headers());

    assertThat(answer.status()).as("%s", answer).isEqualTo(401);
    assertThat(answer.contentType()).startsWith("application/json");
    assertThat(answer.json().getString("error")).isEqualTo(refusal.expectedError());
    assertThat(answer.body()).doesNotContain("Exception").doesNotContain("at io.");
  }

  @Order(2)
  @Test
  void nothingRefusedWasStored() throws Exception {
    assertThat(refusedIds).as("the refusals ran first").hasSizeGreaterThan(15);
    int exitCode = server.stop();
    assertThat(exitCode).as("exit code after SIGTERM\n%s", server.logTail()).isZero();

    try (InboxDb db = InboxDb.open(dataDir)) {
      assertThat(db.eventCount()).as("inbox_events rows; stored ids: %s", db.statuses().keySet()).isZero();
      assertThat(db.rejectedCount()).as("rejected_requests rows").isZero();
      for (String id : refusedIds) {
        assertThat(db.eventCount(id)).isZero();
      }
    }
  }

  /** A valid event with an id of its own; its (event) id is remembered as one that must not be stored. */
  private static byte[] body(Scheme scheme) {
    String id = Bodies.uniqueId("refused");
    refusedIds.add(id);
    return Bodies.eventFor(scheme, id);
  }
}
