package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.provider.ArgumentsSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * Every answer of the webhook port carries {@code X-Request-Id}: the sender's own when it is a plain
 * token (printable ASCII, no spaces, at most 100 characters), else a fresh one; and it is logged with
 * the event. Each case comes from a loopback address of its own, so rate limits never mix cases.
 */
class RequestIdTest {

  private static final Pattern GENERATED = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger(10);

  @TempDir
  static Path dir;

  private static HardenedServer server;

  @BeforeAll
  static void start() throws Exception {
    server = HardenedServer.start(dir, Map.of("WEBHOOKD_HTTP_MAX_BODY_SIZE", "1KiB",
        "WEBHOOKD_HTTP_RATE_LIMIT_PER_IP", "2"));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** The kinds of answers, each made the way a client would provoke it. */
  enum Answer {
    ACCEPTED(200), INVALID_JSON(400), UNSIGNED(401), NOT_FOUND(404), WRONG_METHOD(405), TOO_LARGE(413),
    RATE_LIMITED(429);

    final int status;

    Answer(int status) {
      this.status = status;
    }
  }

  /**
   * Every kind of answer with every kind of offered id. A provider rather than {@code @MethodSource}:
   * with the junit-platform-commons 1.9.0 that jazzer-junit brings in, {@code @MethodSource} fails.
   */
  static final class Cases implements ArgumentsProvider {
    @Override
    public Stream<? extends Arguments> provideArguments(ExtensionContext context) {
      return cases();
    }
  }

  static Stream<Arguments> cases() {
    List<String[]> ids = List.of(
        new String[] {"plain token", "req-7f3a_9.Z:42~"},
        new String[] {"absent", null},
        new String[] {"with a space", "two words"},
        new String[] {"101 characters", "x".repeat(101)},
        new String[] {"non-ASCII", "r\u00e9q-1"},
        new String[] {"empty", ""});
    return Stream.of(Answer.values()).flatMap(answer -> ids.stream().map(id -> Arguments.of(answer, id[0], id[1])));
  }

  @ParameterizedTest(name = "{0} with a request id {1}")
  @ArgumentsSource(Cases.class)
  void everyAnswerCarriesARequestId(Answer answer, String label, String offered) throws Exception {
    RawHttp.Response response = provoke(answer, offered);
    assertThat(response.status()).as("%s", response).isEqualTo(answer.status);
    String id = response.header("X-Request-Id");
    assertThat(id).as("X-Request-Id of %s", response).isNotBlank();
    if ("plain token".equals(label)) {
      assertThat(id).isEqualTo(offered);
    } else {
      assertThat(id).isNotEqualTo(offered).matches(GENERATED);
    }
    if (answer.status >= 400) {
      HardenedServer.errorBody(response);
    }
  }

  @Test
  void generatedIdsDifferFromAnswerToAnswer() throws Exception {
    String first = provoke(Answer.NOT_FOUND, null).header("X-Request-Id");
    String second = provoke(Answer.NOT_FOUND, null).header("X-Request-Id");
    assertThat(first).isNotEqualTo(second);
  }

  @Test
  void aRefusedWebhookIsLoggedWithItsRequestId() throws Exception {
    try (LogCapture log = LogCapture.of("io.webhookd")) {
      RawHttp.Response refused = provoke(Answer.UNSIGNED, "refused-42");
      assertThat(refused.status()).isEqualTo(401);
      List<ILoggingEvent> lines = Poll.until("a log line with request_id=refused-42", Duration.ofSeconds(5),
          () -> log.withKeyValues(Map.of("request_id", "refused-42")), found -> !found.isEmpty());
      assertThat(lines).isNotEmpty();
    }
  }

  /** An accepted event and a signed body that cannot be read are logged with their request id too. */
  @ParameterizedTest
  @EnumSource(value = Answer.class, names = {"ACCEPTED", "INVALID_JSON"})
  void aSignedWebhookIsLoggedWithItsRequestId(Answer answer) throws Exception {
    Logger webhookd = (Logger) LoggerFactory.getLogger("io.webhookd");
    Level level = webhookd.getLevel();
    webhookd.setLevel(Level.DEBUG); // a per-event line at DEBUG counts too
    String id = "signed-" + answer.name().toLowerCase();
    try (LogCapture log = LogCapture.of("io.webhookd")) {
      RawHttp.Response response = provoke(answer, id);
      assertThat(response.status()).isEqualTo(answer.status);
      List<ILoggingEvent> lines = Poll.until("a log line with request_id=" + id, Duration.ofSeconds(3),
          () -> log.withKeyValues(Map.of("request_id", id)), found -> !found.isEmpty());
      assertThat(lines).isNotEmpty();
    } finally {
      webhookd.setLevel(level);
    }
  }

  private static RawHttp.Response provoke(Answer answer, String offered) throws Exception {
    Map<String, String> headers = new LinkedHashMap<>();
    if (offered != null) {
      headers.put("X-Request-Id", offered);
    }
    InetAddress from = InetAddress.getByAddress(new byte[] {127, 0, 1, (byte) NEXT_ADDRESS.getAndIncrement()});
    try (RawHttp connection = RawHttp.plain(InetAddress.getLoopbackAddress(), server.port(), from)) {
      switch (answer) {
        case ACCEPTED -> {
          byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
          headers.put(TestSigner.OPENPHONE_HEADER, server.sign(body));
          return connection.post(IngestVerticle.PATH, body, headers);
        }
        case INVALID_JSON -> {
          byte[] body = ("not json " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
          headers.put(TestSigner.OPENPHONE_HEADER, server.sign(body));
          return connection.post(IngestVerticle.PATH, body, headers);
        }
        case UNSIGNED -> {
          return connection.post(IngestVerticle.PATH, "{}".getBytes(StandardCharsets.UTF_8), headers);
        }
        case NOT_FOUND -> {
          return connection.send("GET", "/nope", headers, null);
        }
        case WRONG_METHOD -> {
          return connection.send("GET", IngestVerticle.PATH, headers, null);
        }
        case TOO_LARGE -> {
          return connection.post(IngestVerticle.PATH, new byte[2048], headers);
        }
        case RATE_LIMITED -> {
          connection.send("GET", "/nope", Map.of(), null);
          connection.send("GET", "/nope", Map.of(), null);
          return connection.send("GET", "/nope", headers, null);
        }
        default -> throw new IllegalArgumentException(answer.name());
      }
    }
  }
}
