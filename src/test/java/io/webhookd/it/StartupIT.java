package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.it.WebhookClient.Answer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Start-up: a bad configuration stops the process with exit code 2; a missing secret does not. */
class StartupIT {

  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path dataDir;

  @Test
  void portThatIsNotANumberIsRefusedWithExitCode2AndOneLine() {
    ServerProcess process = ServerProcess.builder(dataDir).label("bad-port")
        .secrets(TestSigner.newOpenPhoneSecret())
        .env("WEBHOOKD_HTTP_PORT", "notaport")
        .launch();

    int exitCode = process.awaitExit(EXIT_TIMEOUT);

    assertThat(exitCode).as("exit code\n%s", process.logTail()).isEqualTo(2);
    List<String> lines = stderrLines(process);
    assertThat(lines).as("stderr").hasSize(1);
    assertThat(lines.get(0)).contains("http.port").contains("WEBHOOKD_HTTP_PORT")
        .doesNotContain("Exception");
  }

  @Test
  void configFileWithAnUnknownKeyIsRefusedWithExitCode2() throws Exception {
    Path config = Files.writeString(dataDir.resolve("webhookd.yaml"),
        "http:\n  port: 8080\n  bogus-setting: 3\n");
    ServerProcess process = ServerProcess.builder(dataDir).label("unknown-key")
        .secrets(TestSigner.newOpenPhoneSecret())
        .args("--config", config.toString())
        .launch();

    int exitCode = process.awaitExit(EXIT_TIMEOUT);

    assertThat(exitCode).as("exit code\n%s", process.logTail()).isEqualTo(2);
    List<String> lines = stderrLines(process);
    assertThat(lines).as("stderr").hasSize(1);
    assertThat(lines.get(0)).contains("http.bogus-setting").doesNotContain("Exception");
  }

  /** stderr without the JVM's own notices (e.g. "Picked up JAVA_TOOL_OPTIONS: ..."). */
  private static List<String> stderrLines(ServerProcess process) {
    return process.stderr().lines().filter(line -> !line.isBlank() && !line.startsWith("Picked up ")).toList();
  }

  /**
   * The packaged jar carries Linux's native transport for x86-64 and aarch64, and the event loops
   * use it there (shading could drop the native library; the server would then quietly run on NIO).
   */
  @Test
  @EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64", "aarch64"})
  void onLinuxTheEventLoopsRunOnTheNativeTransport() {
    try (ServerProcess server = ServerProcess.builder(dataDir).label("native-transport")
        .secrets(TestSigner.newOpenPhoneSecret()).start()) {
      // Ready can mean "accepts connections", a moment before the line is logged.
      String logs = Poll.until("the ready line", Duration.ofSeconds(10), server::logs,
          text -> ServerProcess.READY_LINE.matcher(text).find());
      assertThat(logs).as(server.logTail())
          .containsPattern(ServerProcess.READY_LINE.pattern() + ".*listeners on the native transport");
      assertThat(server.stop()).isZero();
    }
  }

  @Test
  void withoutSecretTheServerStartsWarnsAndRefusesSignedRequests() throws Exception {
    String unknownSecret = TestSigner.newOpenPhoneSecret();
    try (ServerProcess server = ServerProcess.builder(dataDir).label("no-secret").start()) {
      List<String> warnings = server.stderr().lines()
          .filter(line -> line.contains("WARN") && line.toLowerCase().contains("secret")).toList();
      assertThat(warnings).as("a warning about the missing secret in\n%s", server.logTail()).isNotEmpty();

      WebhookClient client = new WebhookClient(server);
      for (Scheme scheme : Scheme.values()) {
        byte[] body = Bodies.eventFor(scheme, Bodies.uniqueId("no-secret"));
        Answer answer = client.postWebhook(body, scheme.sign(unknownSecret, body, Bodies.uniqueWebhookId()));
        assertThat(answer.status()).as("%s: %s", scheme, answer).isEqualTo(401);
        assertThat(answer.json().getString("error")).isEqualTo("invalid_signature");
      }

      assertThat(server.stop()).isZero();
      try (InboxDb db = InboxDb.open(dataDir)) {
        assertThat(db.eventCount()).isZero();
      }
    }
  }
}
