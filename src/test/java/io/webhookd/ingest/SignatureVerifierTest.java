package io.webhookd.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.webhookd.ingest.Verdict.Outcome;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.TestSigner;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SignatureVerifierTest {

  private static final Instant NOW = Instant.parse("2026-04-13T12:00:00Z");
  private static final long NOW_MS = NOW.toEpochMilli();
  private static final long NOW_S = NOW.getEpochSecond();
  private static final Duration TOLERANCE = Duration.ofMinutes(5);
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String WEBHOOK_ID = "msg_2abcDEF0123456789";

  private static final byte[] BODY = Fixtures.bytes(Fixtures.LEGACY_V2_MESSAGE_RECEIVED);

  static Stream<String> fixtures() {
    return Fixtures.ALL.stream();
  }

  private static SignatureVerifier verifier(String... secrets) {
    return new SignatureVerifier(List.of(secrets), TOLERANCE, CLOCK);
  }

  private static byte[] tampered(byte[] body) {
    byte[] copy = Arrays.copyOf(body, body.length);
    int i = new String(body, StandardCharsets.UTF_8).indexOf("\"type\"") + 2;
    copy[i] = (byte) (copy[i] ^ 0x20); // "type" -> "Type": still JSON, different bytes
    return copy;
  }

  private static void assertAccepted(Verdict verdict, String scheme) {
    assertThat(verdict.outcome()).as(verdict.toString()).isEqualTo(Outcome.ACCEPTED);
    assertThat(verdict.accepted()).isTrue();
    assertThat(verdict.scheme()).isEqualTo(scheme);
  }

  private static void assertOutcome(Verdict verdict, Outcome outcome) {
    assertThat(verdict.outcome()).as(verdict.toString()).isEqualTo(outcome);
    assertThat(verdict.accepted()).isFalse();
  }

  @Nested
  class OpenPhoneLegacy {

    private final String secret = TestSigner.newOpenPhoneSecret();
    private final SignatureVerifier verifier = verifier(secret);

    @ParameterizedTest
    @MethodSource("io.webhookd.ingest.SignatureVerifierTest#fixtures")
    void acceptsEachFixtureBody(String fixture) {
      byte[] body = Fixtures.bytes(fixture);
      Verdict verdict = verifier.verify(TestSigner.openPhone(secret, body, NOW_MS), body);
      assertAccepted(verdict, "openphone");
      assertThat(verdict.webhookId()).isNull();
    }

    @Test
    void signerProducesTheDocumentedHeaderShape() {
      String header = TestSigner.openPhoneSignature(secret, BODY, NOW_MS);
      assertThat(header).matches("hmac;1;\\d{13};[A-Za-z0-9+/]{43}=");
    }

    @Test
    void refusesTamperedBody() {
      MultiMap headers = TestSigner.openPhone(secret, BODY, NOW_MS);
      assertOutcome(verifier.verify(headers, tampered(BODY)), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void refusesWrongSecret() {
      MultiMap headers = TestSigner.openPhone(TestSigner.newOpenPhoneSecret(), BODY, NOW_MS);
      assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void staleAndFutureTimestampsBeyondToleranceAreStale() {
      long past = NOW_MS - TOLERANCE.toMillis() - 1;
      long future = NOW_MS + TOLERANCE.toMillis() + 1;
      assertOutcome(verifier.verify(TestSigner.openPhone(secret, BODY, past), BODY), Outcome.STALE_TIMESTAMP);
      assertOutcome(verifier.verify(TestSigner.openPhone(secret, BODY, future), BODY), Outcome.STALE_TIMESTAMP);
      assertOutcome(verifier.verify(TestSigner.openPhone(secret, BODY, NOW_MS - Duration.ofHours(27).toMillis()),
          BODY), Outcome.STALE_TIMESTAMP);
    }

    @Test
    void timestampsWithinToleranceAreAccepted() {
      for (long ts : new long[] {NOW_MS - TOLERANCE.toMillis(), NOW_MS - 1000, NOW_MS + 1000,
          NOW_MS + TOLERANCE.toMillis()}) {
        assertAccepted(verifier.verify(TestSigner.openPhone(secret, BODY, ts), BODY), "openphone");
      }
    }

    @Test
    void timestampInSecondsInsteadOfMillisIsStale() {
      assertOutcome(verifier.verify(TestSigner.openPhone(secret, BODY, NOW_S), BODY), Outcome.STALE_TIMESTAMP);
    }

    @Test
    void garbledHeadersAreInvalid() {
      String digest = TestSigner.openPhoneDigest(secret, BODY, NOW_MS);
      for (String header : List.of(
          "",
          "hmac;1;" + NOW_MS + ";!!!not-base64!!!",
          "hmac;1;" + NOW_MS + ";" + digest.substring(1),
          "hmac;1;abc;" + digest,
          "hmac;1;-" + NOW_MS + ";" + digest,
          "hmac;1;;" + digest,
          "hmac;2;" + NOW_MS + ";" + digest,
          "sha1;1;" + NOW_MS + ";" + digest,
          "hmac;1;" + NOW_MS,
          "hmac;1;" + NOW_MS + ";" + digest + ";extra",
          digest)) {
        MultiMap headers = TestSigner.headers().add("openphone-signature", header);
        Verdict verdict = verifier.verify(headers, BODY);
        assertOutcome(verdict, Outcome.INVALID_SIGNATURE);
        assertThat(verdict.scheme()).as(header).isEqualTo("openphone");
      }
    }

    @Test
    void rotationAcceptsEitherSecret() {
      String other = TestSigner.newOpenPhoneSecret();
      SignatureVerifier both = verifier(secret, other);
      assertAccepted(both.verify(TestSigner.openPhone(secret, BODY, NOW_MS), BODY), "openphone");
      assertAccepted(both.verify(TestSigner.openPhone(other, BODY, NOW_MS), BODY), "openphone");
      assertOutcome(both.verify(TestSigner.openPhone(TestSigner.newOpenPhoneSecret(), BODY, NOW_MS), BODY),
          Outcome.INVALID_SIGNATURE);
    }

    @Test
    void severalCommaSeparatedSignaturesPassIfAnyMatches() {
      String wrong = TestSigner.openPhoneSignature(TestSigner.newOpenPhoneSecret(), BODY, NOW_MS);
      String right = TestSigner.openPhoneSignature(secret, BODY, NOW_MS);
      for (String header : List.of(wrong + "," + right, right + "," + wrong, wrong + ", " + right,
          "hmac;2;" + NOW_MS + ";AAAA," + right, "garbage," + right)) {
        MultiMap headers = TestSigner.headers().add("openphone-signature", header);
        assertAccepted(verifier.verify(headers, BODY), "openphone");
      }
      MultiMap noneMatch = TestSigner.headers().add("openphone-signature", wrong + "," + wrong);
      assertOutcome(verifier.verify(noneMatch, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void aFreshSignatureWinsOverAStaleOneInTheSameHeader() {
      String stale = TestSigner.openPhoneSignature(secret, BODY, NOW_MS - Duration.ofHours(1).toMillis());
      String fresh = TestSigner.openPhoneSignature(secret, BODY, NOW_MS);
      MultiMap headers = TestSigner.headers().add("openphone-signature", stale + "," + fresh);
      assertAccepted(verifier.verify(headers, BODY), "openphone");
      MultiMap onlyStale = TestSigner.headers().add("openphone-signature", stale);
      assertOutcome(verifier.verify(onlyStale, BODY), Outcome.STALE_TIMESTAMP);
    }

    @Test
    void headerNameIsCaseInsensitive() {
      MultiMap headers = TestSigner.headers()
          .add("OpenPhone-Signature", TestSigner.openPhoneSignature(secret, BODY, NOW_MS));
      assertAccepted(verifier.verify(headers, BODY), "openphone");
    }
  }

  @Nested
  class StandardWebhooks {

    private final String secret = TestSigner.newStandardSecret();
    private final SignatureVerifier verifier = verifier(secret);

    private MultiMap signed(long seconds) {
      return TestSigner.standardWebhooks(secret, WEBHOOK_ID, seconds, BODY);
    }

    @ParameterizedTest
    @MethodSource("io.webhookd.ingest.SignatureVerifierTest#fixtures")
    void acceptsEachFixtureBodyAndReturnsTheWebhookId(String fixture) {
      byte[] body = Fixtures.bytes(fixture);
      Verdict verdict = verifier.verify(TestSigner.standardWebhooks(secret, WEBHOOK_ID, NOW_S, body), body);
      assertAccepted(verdict, "standard-webhooks");
      assertThat(verdict.webhookId()).isEqualTo(WEBHOOK_ID);
    }

    @Test
    void specificationTestVector() {
      String specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
      String msgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
      long timestamp = 1614265330L;
      byte[] payload = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
      String expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

      // The helper agrees with the published vector, so the other tests sign correctly.
      assertThat(TestSigner.standardSignature(specSecret, msgId, timestamp, payload)).isEqualTo(expected);

      SignatureVerifier atVectorTime = new SignatureVerifier(List.of(specSecret), TOLERANCE,
          Clock.fixed(Instant.ofEpochSecond(timestamp), ZoneOffset.UTC));
      MultiMap headers = TestSigner.headers()
          .add("webhook-id", msgId)
          .add("webhook-timestamp", Long.toString(timestamp))
          .add("webhook-signature", expected);
      Verdict verdict = atVectorTime.verify(headers, payload);
      assertAccepted(verdict, "standard-webhooks");
      assertThat(verdict.webhookId()).isEqualTo(msgId);

      // The same vector checked today is stale, not invalid.
      assertOutcome(verifier(specSecret).verify(headers, payload), Outcome.STALE_TIMESTAMP);
    }

    @Test
    void refusesTamperedBody() {
      assertOutcome(verifier.verify(signed(NOW_S), tampered(BODY)), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void refusesWrongSecret() {
      MultiMap headers = TestSigner.standardWebhooks(TestSigner.newStandardSecret(), WEBHOOK_ID, NOW_S, BODY);
      assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void refusesASignatureMadeForAnotherWebhookId() {
      MultiMap headers = signed(NOW_S).set("webhook-id", "msg_other");
      assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void staleAndFutureTimestampsBeyondToleranceAreStale() {
      long past = NOW_S - TOLERANCE.toSeconds() - 1;
      long future = NOW_S + TOLERANCE.toSeconds() + 1;
      assertOutcome(verifier.verify(signed(past), BODY), Outcome.STALE_TIMESTAMP);
      assertOutcome(verifier.verify(signed(future), BODY), Outcome.STALE_TIMESTAMP);
    }

    @Test
    void timestampsWithinToleranceAreAccepted() {
      for (long ts : new long[] {NOW_S - TOLERANCE.toSeconds(), NOW_S - 1, NOW_S + 1,
          NOW_S + TOLERANCE.toSeconds()}) {
        assertAccepted(verifier.verify(signed(ts), BODY), "standard-webhooks");
      }
    }

    @Test
    void missingWebhookIdIsInvalid() {
      MultiMap headers = signed(NOW_S);
      headers.remove("webhook-id");
      assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void missingTimestampIsInvalid() {
      MultiMap headers = signed(NOW_S);
      headers.remove("webhook-timestamp");
      assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void garbledHeadersAreInvalid() {
      String good = TestSigner.standardSignature(secret, WEBHOOK_ID, NOW_S, BODY);
      String digest = good.substring("v1,".length());
      // Garbled signature entries.
      for (String signature : List.of("", "v1,", "v1,!!!not-base64!!!", "v1," + digest.substring(2),
          "v2," + digest, "v1a," + digest, "V1," + digest, digest, "v1 " + digest)) {
        MultiMap headers = signed(NOW_S).set("webhook-signature", signature);
        Verdict verdict = verifier.verify(headers, BODY);
        assertOutcome(verdict, Outcome.INVALID_SIGNATURE);
        assertThat(verdict.scheme()).as(signature).isEqualTo("standard-webhooks");
      }
      // Garbled timestamps, each signed as sent so only the timestamp's form is wrong.
      for (String timestamp : List.of("abc", "", "-" + NOW_S, NOW_S + ".0", "1e9", "99999999999999999999")) {
        MultiMap headers = signed(NOW_S).set("webhook-timestamp", timestamp);
        assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
      }
      // Garbled ids.
      for (String id : List.of("", "msg with space", "x".repeat(256))) {
        MultiMap headers = signed(NOW_S).set("webhook-id", id);
        assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
      }
    }

    @Test
    void repeatedIdOrTimestampHeadersAreInvalid() {
      assertOutcome(verifier.verify(signed(NOW_S).add("webhook-id", WEBHOOK_ID), BODY), Outcome.INVALID_SIGNATURE);
      assertOutcome(verifier.verify(signed(NOW_S).add("webhook-timestamp", Long.toString(NOW_S)), BODY),
          Outcome.INVALID_SIGNATURE);
    }

    @Test
    void rotationAcceptsEitherSecret() {
      String other = TestSigner.newStandardSecret();
      SignatureVerifier both = verifier(secret, other);
      assertAccepted(both.verify(TestSigner.standardWebhooks(secret, WEBHOOK_ID, NOW_S, BODY), BODY),
          "standard-webhooks");
      assertAccepted(both.verify(TestSigner.standardWebhooks(other, WEBHOOK_ID, NOW_S, BODY), BODY),
          "standard-webhooks");
    }

    @Test
    void severalSpaceSeparatedEntriesIncludingUnknownVersionsPassIfAV1Matches() {
      String right = TestSigner.standardSignature(secret, WEBHOOK_ID, NOW_S, BODY);
      String wrong = TestSigner.standardSignature(TestSigner.newStandardSecret(), WEBHOOK_ID, NOW_S, BODY);
      String rightDigest = right.substring(3);
      for (String signature : List.of(
          wrong + " " + right,
          right + " " + wrong,
          "v1a,c29tZXRoaW5nIGVsc2U= " + right,
          "v1a," + rightDigest + " " + wrong + " " + right,
          "v2,AAAA " + right + " v1a,BBBB",
          "garbage " + right,
          wrong + "  " + right)) {
        MultiMap headers = signed(NOW_S).set("webhook-signature", signature);
        assertAccepted(verifier.verify(headers, BODY), "standard-webhooks");
      }
      // The right digest under an unknown version alone is not enough.
      MultiMap unknownOnly = signed(NOW_S).set("webhook-signature", "v1a," + rightDigest + " " + wrong);
      assertOutcome(verifier.verify(unknownOnly, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void takesPrecedenceOverTheOtherSchemesHeaders() {
      // A request carrying webhook-signature is judged by Standard Webhooks alone.
      MultiMap headers = TestSigner.standardWebhooks(TestSigner.newStandardSecret(), WEBHOOK_ID, NOW_S, BODY);
      String legacySecret = TestSigner.newOpenPhoneSecret();
      headers.addAll(TestSigner.openPhone(legacySecret, BODY, NOW_MS));
      Verdict verdict = verifier(secret, legacySecret).verify(headers, BODY);
      assertOutcome(verdict, Outcome.INVALID_SIGNATURE);
      assertThat(verdict.scheme()).isEqualTo("standard-webhooks");
    }
  }

  @Nested
  class Seed {

    private final String secret = TestSigner.newSeedSecret();
    private final SignatureVerifier verifier = verifier(secret);

    @ParameterizedTest
    @MethodSource("io.webhookd.ingest.SignatureVerifierTest#fixtures")
    void acceptsEachFixtureBody(String fixture) {
      byte[] body = Fixtures.bytes(fixture);
      Verdict verdict = verifier.verify(TestSigner.seed(secret, body, NOW_S), body);
      assertAccepted(verdict, "seed");
      assertThat(verdict.webhookId()).isNull();
    }

    @Test
    void signatureIsLowerCaseHex() {
      assertThat(TestSigner.seedSignature(secret, BODY, NOW_S)).matches("[0-9a-f]{64}");
    }

    @Test
    void refusesTamperedBody() {
      assertOutcome(verifier.verify(TestSigner.seed(secret, BODY, NOW_S), tampered(BODY)), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void refusesWrongSecret() {
      assertOutcome(verifier.verify(TestSigner.seed(TestSigner.newSeedSecret(), BODY, NOW_S), BODY),
          Outcome.INVALID_SIGNATURE);
    }

    @Test
    void refusesATimestampHeaderThatIsNotTheSignedOne() {
      MultiMap headers = TestSigner.seed(secret, BODY, NOW_S).set("X-OpenPhone-Timestamp", Long.toString(NOW_S + 1));
      assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
    }

    @Test
    void staleAndFutureTimestampsBeyondToleranceAreStale() {
      long past = NOW_S - TOLERANCE.toSeconds() - 1;
      long future = NOW_S + TOLERANCE.toSeconds() + 1;
      assertOutcome(verifier.verify(TestSigner.seed(secret, BODY, past), BODY), Outcome.STALE_TIMESTAMP);
      assertOutcome(verifier.verify(TestSigner.seed(secret, BODY, future), BODY), Outcome.STALE_TIMESTAMP);
    }

    @Test
    void timestampsWithinToleranceAreAccepted() {
      for (long ts : new long[] {NOW_S - TOLERANCE.toSeconds(), NOW_S - 1, NOW_S + 1,
          NOW_S + TOLERANCE.toSeconds()}) {
        assertAccepted(verifier.verify(TestSigner.seed(secret, BODY, ts), BODY), "seed");
      }
    }

    @Test
    void missingTimestampIsInvalid() {
      MultiMap headers = TestSigner.seed(secret, BODY, NOW_S);
      headers.remove("X-OpenPhone-Timestamp");
      Verdict verdict = verifier.verify(headers, BODY);
      assertOutcome(verdict, Outcome.INVALID_SIGNATURE);
      assertThat(verdict.scheme()).isEqualTo("seed");
    }

    @Test
    void garbledHeadersAreInvalid() {
      String hex = TestSigner.seedSignature(secret, BODY, NOW_S);
      for (String signature : List.of("", "zz" + hex.substring(2), hex.substring(1), "sha256=" + hex,
          Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hex)))) {
        MultiMap headers = TestSigner.seed(secret, BODY, NOW_S).set("X-OpenPhone-Signature", signature);
        assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
      }
      for (String timestamp : List.of("abc", "", "-" + NOW_S, NOW_S + ".5", "99999999999999999999")) {
        MultiMap headers = TestSigner.seed(secret, BODY, NOW_S).set("X-OpenPhone-Timestamp", timestamp);
        assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
      }
    }

    @Test
    void rotationAcceptsEitherSecret() {
      String other = TestSigner.newSeedSecret();
      SignatureVerifier both = verifier(secret, other);
      assertAccepted(both.verify(TestSigner.seed(secret, BODY, NOW_S), BODY), "seed");
      assertAccepted(both.verify(TestSigner.seed(other, BODY, NOW_S), BODY), "seed");
    }
  }

  @Test
  void requestWithoutAnySignatureHeaderIsInvalid() {
    SignatureVerifier verifier = verifier(TestSigner.newOpenPhoneSecret(), TestSigner.newStandardSecret());
    Verdict verdict = verifier.verify(TestSigner.headers().add("content-type", "application/json"), BODY);
    assertOutcome(verdict, Outcome.INVALID_SIGNATURE);
    assertThat(verdict.scheme()).isNull();
  }

  @Test
  void timestampOnlyHeadersWithoutSignatureAreInvalid() {
    SignatureVerifier verifier = verifier(TestSigner.newStandardSecret());
    MultiMap headers = TestSigner.headers()
        .add("webhook-id", WEBHOOK_ID)
        .add("webhook-timestamp", Long.toString(NOW_S))
        .add("X-OpenPhone-Timestamp", Long.toString(NOW_S));
    assertOutcome(verifier.verify(headers, BODY), Outcome.INVALID_SIGNATURE);
  }

  @Test
  void oneConfiguredSecretListServesEverySchemeAtOnce() {
    String legacy = TestSigner.newOpenPhoneSecret();
    String standard = TestSigner.newStandardSecret();
    String seed = TestSigner.newSeedSecret();
    SignatureVerifier verifier = verifier(legacy, standard, seed);
    assertAccepted(verifier.verify(TestSigner.openPhone(legacy, BODY, NOW_MS), BODY), "openphone");
    assertAccepted(verifier.verify(TestSigner.standardWebhooks(standard, WEBHOOK_ID, NOW_S, BODY), BODY),
        "standard-webhooks");
    assertAccepted(verifier.verify(TestSigner.seed(seed, BODY, NOW_S), BODY), "seed");
  }

  @Test
  void noSecretsConfiguredRefusesEverything() {
    SignatureVerifier none = verifier();
    String legacy = TestSigner.newOpenPhoneSecret();
    String standard = TestSigner.newStandardSecret();
    String seed = TestSigner.newSeedSecret();

    Verdict v1 = none.verify(TestSigner.openPhone(legacy, BODY, NOW_MS), BODY);
    Verdict v2 = none.verify(TestSigner.standardWebhooks(standard, WEBHOOK_ID, NOW_S, BODY), BODY);
    Verdict v3 = none.verify(TestSigner.seed(seed, BODY, NOW_S), BODY);
    Verdict v4 = none.verify(TestSigner.headers(), BODY);

    assertOutcome(v1, Outcome.INVALID_SIGNATURE);
    assertOutcome(v2, Outcome.INVALID_SIGNATURE);
    assertOutcome(v3, Outcome.INVALID_SIGNATURE);
    assertOutcome(v4, Outcome.INVALID_SIGNATURE);
    assertThat(List.of(v1.scheme(), v2.scheme(), v3.scheme())).containsExactly("openphone", "standard-webhooks", "seed");
  }

  @Test
  void verifierIsSafeToShareBetweenThreads() throws Exception {
    String secret = TestSigner.newOpenPhoneSecret();
    String otherSecret = TestSigner.newOpenPhoneSecret();
    SignatureVerifier verifier = verifier(secret, otherSecret);
    MultiMap good = TestSigner.openPhone(otherSecret, BODY, NOW_MS);
    MultiMap bad = TestSigner.openPhone(TestSigner.newOpenPhoneSecret(), BODY, NOW_MS);
    List<Thread> threads = new ArrayList<>();
    AtomicInteger wrong = new AtomicInteger();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 500; i++) {
          if (!verifier.verify(good, BODY).accepted() || verifier.verify(bad, BODY).accepted()) {
            wrong.incrementAndGet();
          }
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(wrong).hasValue(0);
  }
}
