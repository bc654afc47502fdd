package io.webhookd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.webhookd.ingest.EnvelopeParser;
import io.webhookd.ingest.WebhookSigner;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code webhookd send} against the whole service running in this JVM (SQLite in a temporary
 * directory): a sample of each type in each scheme is accepted with 200 and stored once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SendCommandTest {

  @TempDir
  static Path dir;

  static CliServer server;
  static CliServer.Counting handler = new CliServer.Counting();

  @BeforeAll
  static void start() throws Exception {
    Path config = Files.writeString(dir.resolve("webhookd.yaml"), "data-dir: " + dir.resolve("data") + "\n");
    server = CliServer.start(config, handler.registry());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(WebhookSigner.Scheme.class)
  void aSampleSignedInEachSchemeIsAcceptedAndStored(WebhookSigner.Scheme scheme) throws Exception {
    long before = count("SELECT COUNT(*) FROM inbox_events WHERE signature_scheme = '" + scheme.verifierName() + "'");

    Cli.Result result = Cli.run("send", "--url", server.webhookUri().toString(), "--scheme", scheme.toString(),
        "--secret", CliServer.SECRET, "--type", "message.delivered");

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.lines().get(0)).isEqualTo("HTTP 200");
    JsonObject answer = new JsonObject(result.lines().get(1));
    assertThat(answer.getString("status")).isEqualTo("queued");
    assertThat(result.err()).contains("message.delivered sample").contains("signed with " + scheme);
    assertThat(count("SELECT COUNT(*) FROM inbox_events WHERE signature_scheme = '" + scheme.verifierName()
        + "' AND event_id = '" + answer.getString("event_id") + "'")).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM inbox_events WHERE signature_scheme = '" + scheme.verifierName() + "'"))
        .isEqualTo(before + 1);
  }

  @Test
  void anInboundTextIsAnsweredOnceProcessed() {
    Cli.Result result = Cli.run("send", "--url", server.webhookUri().toString(), "--secret", CliServer.SECRET);

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.lines().get(0)).isEqualTo("HTTP 200");
    JsonObject answer = new JsonObject(result.lines().get(1));
    assertThat(answer.getString("status")).as("%s", answer).isIn("processed", "queued");
    assertThat(result.err()).contains("message.received sample");
  }

  @Test
  void sendingTwiceSendsTwoDistinctEvents() {
    String first = eventId(Cli.run("send", "--url", server.webhookUri().toString(), "--secret", CliServer.SECRET,
        "--type", "call.completed", "--scheme", "standard"));
    String second = eventId(Cli.run("send", "--url", server.webhookUri().toString(), "--secret", CliServer.SECRET,
        "--type", "call.completed", "--scheme", "standard"));

    assertThat(first).isNotEqualTo(second);
  }

  @Test
  void aFileIsSentAsItIsAndAGivenWebhookIdMakesItsRetryADuplicate() throws Exception {
    Path body = Files.write(dir.resolve("body.json"),
        SampleEvents.body("contact.updated", WebhookSigner.Scheme.STANDARD, Instant.now()));
    String webhookId = WebhookSigner.newWebhookId();
    String[] args = {"send", "--url", server.webhookUri().toString(), "--secret", CliServer.SECRET,
        "--scheme", "standard", "--file", body.toString(), "--id", webhookId};

    Cli.Result first = Cli.run(args);
    Cli.Result retry = Cli.run(args);

    assertThat(first.exitCode()).as("%s", first).isZero();
    assertThat(new JsonObject(first.lines().get(1))).isEqualTo(
        new JsonObject().put("status", "queued").put("event_id", webhookId));
    assertThat(new JsonObject(retry.lines().get(1)).getString("status")).isEqualTo("duplicate_ignored");
    byte[] stored = Poll.until("stored body", java.time.Duration.ofSeconds(5),
        () -> bodyOf(webhookId), b -> b != null);
    assertThat(stored).isEqualTo(Files.readAllBytes(body));
  }

  @Test
  void aRefusedDeliveryExitsWith1AndPrintsTheAnswer() {
    Cli.Result result = Cli.run("send", "--url", server.webhookUri().toString(), "--secret",
        TestSigner.newOpenPhoneSecret());

    assertThat(result.exitCode()).as("%s", result).isEqualTo(1);
    assertThat(result.lines().get(0)).isEqualTo("HTTP 401");
    assertThat(new JsonObject(result.lines().get(1)).getString("error")).isEqualTo("invalid_signature");
  }

  @Test
  void anUnreachableUrlExitsWith1() {
    Cli.Result result = Cli.run("send", "--url", "http://127.0.0.1:" + InProcessServer.freePort() + "/webhooks/openphone",
        "--secret", CliServer.SECRET, "--timeout", "5");

    assertThat(result.exitCode()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).contains("did not answer");
  }

  @Test
  void anUnknownTypeOrTypeAndFileTogetherOrABadUrlIsAUsageError() throws Exception {
    Path body = Files.writeString(dir.resolve("other.json"), "{}");
    String url = server.webhookUri().toString();

    Cli.Result unknown = Cli.run("send", "--url", url, "--secret", CliServer.SECRET, "--type", "message.teleported");
    assertThat(unknown.exitCode()).as("%s", unknown).isEqualTo(2);
    assertThat(unknown.err()).contains("no sample for event type 'message.teleported'").contains("call.completed");
    assertThat(Cli.run("send", "--url", url, "--secret", CliServer.SECRET, "--type", "call.completed", "--file",
        body.toString()).exitCode()).isEqualTo(2);
    assertThat(Cli.run("send", "--url", "ftp://example.com/", "--secret", CliServer.SECRET).exitCode()).isEqualTo(2);
    assertThat(Cli.run("send", "--secret", CliServer.SECRET).exitCode()).isEqualTo(2);
  }

  /** Every sample, in every scheme, is an envelope the service reads, with a fresh id each time. */
  @Test
  void everySampleIsAReadableEnvelopeWithAFreshId() throws Exception {
    Set<String> ids = new HashSet<>();
    for (WebhookSigner.Scheme scheme : WebhookSigner.Scheme.values()) {
      for (String type : SampleEvents.types()) {
        Instant now = Instant.now();
        var envelope = EnvelopeParser.parse(SampleEvents.body(type, scheme, now), scheme.verifierName(), null, 0);
        assertThat(envelope.event().type()).isEqualTo(type);
        assertThat(envelope.event().occurredAt()).as("%s %s createdAt", scheme, type).isEqualTo(now.toEpochMilli());
        assertThat(ids.add(envelope.event().eventId())).as("fresh id for %s %s", scheme, type).isTrue();
        if (type.startsWith("message.")) {
          assertThat(envelope.text()).isNotBlank();
          assertThat(envelope.event().partitionKey()).startsWith("conversation:CN");
        }
      }
    }
  }

  private static String eventId(Cli.Result result) {
    assertThat(result.exitCode()).as("%s", result).isZero();
    return new JsonObject(result.lines().get(1)).getString("event_id");
  }

  private static long count(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data").resolve("webhookd.db"));
         PreparedStatement s = c.prepareStatement(sql);
         ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static byte[] bodyOf(String eventId) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data").resolve("webhookd.db"));
         PreparedStatement s = c.prepareStatement("SELECT body FROM inbox_events WHERE event_id = ?")) {
      s.setString(1, eventId);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : null;
      }
    }
  }
}
