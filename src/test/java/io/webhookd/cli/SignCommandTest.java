package io.webhookd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.webhookd.ingest.SignatureVerifier;
import io.webhookd.ingest.Verdict;
import io.webhookd.testing.TestSigner;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code webhookd sign}: the published Standard Webhooks test vector, and for every scheme headers
 * that the service's own verifier accepts and that match what the documented algorithms produce
 * ({@link TestSigner}, written independently of the main code).
 */
class SignCommandTest {

  /** The test vector of the Standard Webhooks specification. */
  static final String VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  static final String VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  static final String VECTOR_TIMESTAMP = "1614265330";
  static final String VECTOR_PAYLOAD = "{\"test\": 2432232314}";
  static final String VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

  @TempDir
  Path dir;

  @Test
  void reproducesTheStandardWebhooksTestVectorFromStdin() {
    Cli.Result result = withStdin(VECTOR_PAYLOAD.getBytes(StandardCharsets.UTF_8), () -> Cli.run("sign",
        "--scheme", "standard", "--secret", VECTOR_SECRET, "--id", VECTOR_ID, "--timestamp", VECTOR_TIMESTAMP));

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("webhook-id: " + VECTOR_ID + "\n"
        + "webhook-timestamp: " + VECTOR_TIMESTAMP + "\n"
        + "webhook-signature: " + VECTOR_SIGNATURE + "\n");
    assertThat(result.err()).isEmpty();
  }

  @Test
  void reproducesTheVectorFromAFileAsJson() throws Exception {
    Path body = Files.writeString(dir.resolve("body.json"), VECTOR_PAYLOAD);

    Cli.Result result = Cli.run("sign", "--scheme", "STANDARD", "--secret", VECTOR_SECRET, "--id", VECTOR_ID,
        "--timestamp", "2021-02-25T15:02:10Z", "--file", body.toString(), "--json");

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.jsonObject()).isEqualTo(new JsonObject()
        .put("webhook-id", VECTOR_ID)
        .put("webhook-timestamp", VECTOR_TIMESTAMP)
        .put("webhook-signature", VECTOR_SIGNATURE));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"openphone", "standard", "seed"})
  void whatItSignsTheVerifierAccepts(String scheme) throws Exception {
    String secret = TestSigner.newOpenPhoneSecret();
    byte[] body = SampleEvents.body("message.delivered", io.webhookd.ingest.WebhookSigner.Scheme.valueOf(
        scheme.toUpperCase(java.util.Locale.ROOT)), Instant.now());
    Path file = Files.write(dir.resolve("body.json"), body);

    Cli.Result result = Cli.run("sign", "--scheme", scheme, "--secret", secret, "--file", file.toString());

    assertThat(result.exitCode()).as("%s", result).isZero();
    MultiMap headers = parseHeaders(result.out());
    Verdict verdict = new SignatureVerifier(List.of(secret), Duration.ofMinutes(5), Clock.systemUTC())
        .verify(headers, body);
    assertThat(verdict.accepted()).as("%s for %s", verdict, result).isTrue();
    assertThat(verdict.scheme()).isEqualTo(switch (scheme) {
      case "standard" -> "standard-webhooks";
      default -> scheme;
    });
    // Another secret, or another body, is refused.
    assertThat(new SignatureVerifier(List.of(TestSigner.newOpenPhoneSecret()), Duration.ofMinutes(5),
        Clock.systemUTC()).verify(headers, body).accepted()).isFalse();
    assertThat(new SignatureVerifier(List.of(secret), Duration.ofMinutes(5), Clock.systemUTC())
        .verify(headers, "{}".getBytes(StandardCharsets.UTF_8)).accepted()).isFalse();
  }

  @Test
  void eachSchemeMatchesTheDocumentedAlgorithmAtAGivenTime() throws Exception {
    String secret = TestSigner.newOpenPhoneSecret();
    byte[] body = "{\"id\":\"EV1\",\"type\":\"message.received\"}".getBytes(StandardCharsets.UTF_8);
    Path file = Files.write(dir.resolve("body.json"), body);
    long millis = 1_700_000_000_123L;

    Cli.Result openphone = Cli.run("sign", "--scheme", "openphone", "--secret", secret, "--file", file.toString(),
        "--timestamp", Long.toString(millis));
    assertThat(openphone.out()).isEqualTo("openphone-signature: "
        + TestSigner.openPhoneSignature(secret, body, millis) + "\n");

    Cli.Result seed = Cli.run("sign", "--scheme", "seed", "--secret", "plain text secret", "--file", file.toString(),
        "--timestamp", "1700000000");
    assertThat(seed.out()).isEqualTo("x-openphone-signature: " + TestSigner.seedSignature("plain text secret", body,
        1_700_000_000L) + "\nx-openphone-timestamp: 1700000000\n");

    Cli.Result standard = Cli.run("sign", "--scheme", "standard", "--secret", secret, "--file", file.toString(),
        "--timestamp", "1700000000", "--id", "msg_1");
    assertThat(standard.out()).contains("webhook-signature: "
        + TestSigner.standardSignature(secret, "msg_1", 1_700_000_000L, body) + "\n");

    // A verifier at that time accepts them; one an hour later refuses them as stale.
    Clock then = Clock.fixed(Instant.ofEpochMilli(millis), ZoneOffset.UTC);
    Clock later = Clock.fixed(Instant.ofEpochMilli(millis).plus(Duration.ofHours(1)), ZoneOffset.UTC);
    assertThat(new SignatureVerifier(List.of(secret), Duration.ofMinutes(5), then)
        .verify(parseHeaders(openphone.out()), body).accepted()).isTrue();
    assertThat(new SignatureVerifier(List.of(secret), Duration.ofMinutes(5), later)
        .verify(parseHeaders(openphone.out()), body).outcome()).isEqualTo(Verdict.Outcome.STALE_TIMESTAMP);
  }

  @Test
  void aStandardSignatureWithoutAnIdGetsAFreshOne() throws Exception {
    Path file = Files.writeString(dir.resolve("body.json"), VECTOR_PAYLOAD);

    String first = parseHeaders(Cli.run("sign", "--scheme", "standard", "--secret", VECTOR_SECRET, "--file",
        file.toString()).out()).get("webhook-id");
    String second = parseHeaders(Cli.run("sign", "--scheme", "standard", "--secret", VECTOR_SECRET, "--file",
        file.toString()).out()).get("webhook-id");

    assertThat(first).startsWith("msg_").isNotEqualTo(second);
  }

  @Test
  void aSecretTheSchemeCannotUseOrABadTimestampIsAUsageError() throws Exception {
    Path file = Files.writeString(dir.resolve("body.json"), "{}");

    Cli.Result notBase64 = Cli.run("sign", "--scheme", "openphone", "--secret", "not base64!", "--file", file.toString());
    assertThat(notBase64.exitCode()).as("%s", notBase64).isEqualTo(2);
    assertThat(notBase64.err()).contains("openphone scheme needs a base64 secret");
    assertThat(notBase64.out()).isEmpty();

    Cli.Result badTime = Cli.run("sign", "--scheme", "seed", "--secret", "s", "--file", file.toString(),
        "--timestamp", "yesterday");
    assertThat(badTime.exitCode()).as("%s", badTime).isEqualTo(2);
    assertThat(badTime.err()).contains("--timestamp");

    Cli.Result noScheme = Cli.run("sign", "--secret", "s", "--file", file.toString());
    assertThat(noScheme.exitCode()).isEqualTo(2);
    assertThat(Cli.run("sign", "--scheme", "hmac", "--secret", "s", "--file", file.toString()).exitCode()).isEqualTo(2);
  }

  /** {@code Name: value} lines into a case-insensitive header map, as a request would carry them. */
  static MultiMap parseHeaders(String out) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    out.lines().forEach(line -> {
      int colon = line.indexOf(": ");
      headers.add(line.substring(0, colon), line.substring(colon + 2));
    });
    return headers;
  }

  private static Cli.Result withStdin(byte[] input, java.util.function.Supplier<Cli.Result> run) {
    InputStream original = System.in;
    System.setIn(new ByteArrayInputStream(input));
    try {
      return run.get();
    } finally {
      System.setIn(original);
    }
  }
}
