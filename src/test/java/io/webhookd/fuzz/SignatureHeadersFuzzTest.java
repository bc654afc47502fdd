package io.webhookd.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.MultiMap;
import io.webhookd.ingest.SignatureVerifier;
import io.webhookd.ingest.Verdict;
import io.webhookd.testing.TestSigner;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Coverage-guided fuzzing of the three signature schemes' header parsing, through
 * {@link SignatureVerifier#verify}, the only way requests reach them.
 *
 * <p>An input reads like the head of an HTTP request: header lines {@code name: value} up to the
 * first empty line, then the raw body (see {@link FuzzInput}). Each input is checked twice:
 * <ul>
 *   <li>against a verifier holding keys the input was never signed with: it must answer (never
 *       throw) and never accept;</li>
 *   <li>against a verifier holding the keys the seeds are signed with, on a clock fixed at the
 *       seeds' time: it must answer, and when it accepts, an independent recomputation of the
 *       claimed scheme's HMAC ({@link #genuinelySigned}) must find a correct signature for exactly
 *       this body among the headers. So a mutated body, id or timestamp is never accepted.</li>
 * </ul>
 * The scheme a verdict names must be the one the headers claim (Standard Webhooks, then OpenPhone,
 * then the seed scheme), whatever else the request carries.
 *
 * <p>{@code mvn verify} replays the seeds under
 * {@code src/test/resources/io/webhookd/fuzz/SignatureHeadersFuzzTestInputs/<method>/}; with
 * {@code JAZZER_FUZZ=1} one method at a time is fuzzed for {@code maxDuration} (see {@code .ci/run}).
 */
class SignatureHeadersFuzzTest {

  /** The time every seed is signed at: 2026-01-01T00:00:00Z. */
  static final long SEED_TIME_MILLIS = 1_767_225_600_000L;
  static final Duration TOLERANCE = Duration.ofMinutes(5);

  /** The keys the seeds are signed with; derived, so no secret-looking string is committed. */
  static final String OPENPHONE_SECRET = base64(sha256("webhookd-fuzz-openphone"));
  static final String STANDARD_SECRET = "whsec_" + base64(sha256("webhookd-fuzz-standard"));
  static final String SEED_SECRET = "seed-" + HexFormat.of().formatHex(sha256("webhookd-fuzz-seed"));

  static final List<String> SECRETS = List.of(OPENPHONE_SECRET, STANDARD_SECRET, SEED_SECRET);

  private static final SignatureVerifier RIGHT_KEYS = new SignatureVerifier(SECRETS, TOLERANCE,
      Clock.fixed(Instant.ofEpochMilli(SEED_TIME_MILLIS), ZoneOffset.UTC));
  private static final SignatureVerifier OTHER_KEYS = new SignatureVerifier(
      List.of(base64(sha256("other-openphone")), "whsec_" + base64(sha256("other-standard")),
          "seed-" + HexFormat.of().formatHex(sha256("other-seed"))),
      TOLERANCE, Clock.fixed(Instant.ofEpochMilli(SEED_TIME_MILLIS), ZoneOffset.UTC));

  /** Tokens of the header grammar and the numeric edges, for the mutator (a libFuzzer dictionary). */
  @FuzzTest(maxDuration = "30s")
  @DictionaryEntries({"openphone-signature: ", "webhook-id: ", "webhook-timestamp: ", "webhook-signature: ",
      "x-openphone-signature: ", "x-openphone-timestamp: ", "hmac;1;", ";", ",", " v1,", "v1a,", "=",
      "9223372036854775807", "9223372036854775808", "1767225600000", "1767225600"})
  void openPhoneSignature(byte[] input) {
    check(input);
  }

  @FuzzTest(maxDuration = "30s")
  @DictionaryEntries({"openphone-signature: ", "webhook-id: ", "webhook-timestamp: ", "webhook-signature: ",
      "x-openphone-signature: ", "x-openphone-timestamp: ", "hmac;1;", ";", ",", " v1,", "v1a,", "=",
      "9223372036854775807", "9223372036854775808", "1767225600000", "1767225600"})
  void standardWebhooksSignature(byte[] input) {
    check(input);
  }

  @FuzzTest(maxDuration = "30s")
  @DictionaryEntries({"openphone-signature: ", "webhook-id: ", "webhook-timestamp: ", "webhook-signature: ",
      "x-openphone-signature: ", "x-openphone-timestamp: ", "hmac;1;", ";", ",", " v1,", "v1a,", "=",
      "9223372036854775807", "9223372036854775808", "1767225600000", "1767225600"})
  void seedSignature(byte[] input) {
    check(input);
  }

  /**
   * The seeds named {@code valid*} carry a correct, fresh signature: they must be accepted, or the
   * oracle above would never be exercised (wrong key derivation, wrong clock).
   */
  @ParameterizedTest
  @CsvSource({
      "openPhoneSignature/valid, openphone", "openPhoneSignature/valid-among-several, openphone",
      "openPhoneSignature/repeated-header, openphone",
      "standardWebhooksSignature/valid, standard-webhooks",
      "standardWebhooksSignature/valid-among-several, standard-webhooks",
      "seedSignature/valid, seed", "seedSignature/upper-case-hex, seed"})
  void validSeedsAreAccepted(String seed, String scheme) throws IOException {
    byte[] input;
    try (InputStream in = getClass().getResourceAsStream("SignatureHeadersFuzzTestInputs/" + seed)) {
      assertThat(in).as("seed %s on the test classpath", seed).isNotNull();
      input = in.readAllBytes();
    }
    FuzzInput request = FuzzInput.parse(input);
    Verdict verdict = RIGHT_KEYS.verify(request.headers(), request.body());
    assertThat(verdict.accepted()).as("%s: %s", seed, verdict).isTrue();
    assertThat(verdict.scheme()).isEqualTo(scheme);
    assertThat(genuinelySigned(scheme, request.headers(), request.body())).isTrue();
    check(input);
  }

  static void check(byte[] input) {
    FuzzInput request = FuzzInput.parse(input);
    MultiMap headers = request.headers();
    byte[] body = request.body();
    byte[] bodyCopy = body.clone();

    Verdict foreign = OTHER_KEYS.verify(headers, body);
    assertThat(foreign).isNotNull();
    assertThat(foreign.accepted())
        .as("accepted without the right key: %s", request)
        .isFalse();
    assertThat(foreign.secretIndex()).isEqualTo(-1);

    Verdict verdict = RIGHT_KEYS.verify(headers, body);
    assertThat(verdict).isNotNull();
    assertThat(verdict.scheme()).as("scheme claimed by %s", request).isEqualTo(claimedScheme(headers));
    if (verdict.accepted()) {
      assertThat(verdict.secretIndex()).isBetween(0, 2);
      assertThat(genuinelySigned(verdict.scheme(), headers, body))
          .as("accepted, but no header carries a correct %s signature of this body: %s", verdict.scheme(), request)
          .isTrue();
    } else {
      assertThat(verdict.secretIndex()).isEqualTo(-1);
      assertThat(verdict.detail()).isNotBlank();
    }
    assertThat(body).as("the verifier must not change the body").isEqualTo(bodyCopy);
  }

  /** The scheme whose headers are present, by the documented priority. */
  static String claimedScheme(MultiMap headers) {
    if (headers.contains("webhook-signature")) {
      return "standard-webhooks";
    }
    if (headers.contains("openphone-signature")) {
      return "openphone";
    }
    if (headers.contains("x-openphone-signature")) {
      return "seed";
    }
    return null;
  }

  /**
   * The documented algorithms, recomputed here without the main code: whether some header entry
   * is a correct, fresh signature of {@code body} with the right key.
   */
  static boolean genuinelySigned(String scheme, MultiMap headers, byte[] body) {
    switch (scheme) {
      case "openphone": {
        for (String value : headers.getAll("openphone-signature")) {
          for (String entry : value.split(",")) {
            String[] parts = entry.trim().split(";", -1);
            if (parts.length == 4 && parts[0].equals("hmac") && parts[1].equals("1")
                && fresh(parts[2], 1)) {
              for (byte[] key : keys(SECRETS, false)) {
                if (MessageDigest.isEqual(TestSigner.hmac(key, parts[2] + ".", body), decodeOrNull(parts[3].trim()))) {
                  return true;
                }
              }
            }
          }
        }
        return false;
      }
      case "standard-webhooks": {
        List<String> ids = headers.getAll("webhook-id");
        List<String> stamps = headers.getAll("webhook-timestamp");
        if (ids.size() != 1 || stamps.size() != 1) {
          return false;
        }
        String id = ids.get(0).trim();
        String stamp = stamps.get(0).trim();
        if (!fresh(stamp, 1000)) {
          return false;
        }
        for (byte[] key : keys(SECRETS, true)) {
          byte[] expected = TestSigner.hmac(key, id + "." + stamp + ".", body);
          for (String value : headers.getAll("webhook-signature")) {
            for (String entry : value.split(" ")) {
              if (entry.startsWith("v1,") && MessageDigest.isEqual(expected, decodeOrNull(entry.substring(3).trim()))) {
                return true;
              }
            }
          }
        }
        return false;
      }
      case "seed": {
        List<String> signatures = headers.getAll("x-openphone-signature");
        List<String> stamps = headers.getAll("x-openphone-timestamp");
        if (signatures.size() != 1 || stamps.size() != 1) {
          return false;
        }
        String stamp = stamps.get(0).trim();
        if (!fresh(stamp, 1000)) {
          return false;
        }
        String presented = signatures.get(0).trim();
        for (String secret : SECRETS) {
          byte[] expected = TestSigner.hmac(secret.getBytes(StandardCharsets.UTF_8), stamp + ".", body);
          if (HexFormat.of().formatHex(expected).equalsIgnoreCase(presented)) {
            return true;
          }
        }
        return false;
      }
      default:
        return false;
    }
  }

  /**
   * The HMAC keys the documentation derives from the secrets: base64-decoded (OpenPhone), or with
   * {@code whsec_} stripped first (Standard Webhooks); secrets that are not base64 give no key.
   */
  private static List<byte[]> keys(List<String> secrets, boolean stripWhsec) {
    List<byte[]> keys = new java.util.ArrayList<>();
    for (String secret : secrets) {
      String text = stripWhsec && secret.startsWith("whsec_") ? secret.substring("whsec_".length()) : secret;
      byte[] key = decodeOrNull(text);
      if (key != null && key.length > 0) {
        keys.add(key);
      }
    }
    return keys;
  }

  /** Digits only, and within the window of the seeds' time once multiplied by {@code unitMillis}. */
  private static boolean fresh(String digits, long unitMillis) {
    if (!digits.matches("[0-9]{1,40}")) {
      return false;
    }
    BigInteger millis = new BigInteger(digits).multiply(BigInteger.valueOf(unitMillis));
    return millis.subtract(BigInteger.valueOf(SEED_TIME_MILLIS)).abs()
        .compareTo(BigInteger.valueOf(TOLERANCE.toMillis())) <= 0;
  }

  private static byte[] decodeOrNull(String text) {
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }
}
