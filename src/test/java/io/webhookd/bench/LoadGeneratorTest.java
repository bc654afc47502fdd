package io.webhookd.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.webhookd.ingest.SignatureVerifier;
import io.webhookd.testing.TestSigner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load generator, run as the bench runs it (a JVM of its own, real HTTP) against a small server
 * in this test whose answers it controls: the figures it reports are the ones the bench records, so
 * they are checked against what the server saw.
 */
class LoadGeneratorTest {

  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);

  private final String secret = TestSigner.newOpenPhoneSecret();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong forged = new AtomicLong();
  private Vertx vertx;
  private HttpServer server;
  private volatile BiConsumer<HttpServerRequest, Long> answer;
  private SignatureVerifier verifier;

  @BeforeEach
  void startServer() {
    vertx = Vertx.vertx();
    verifier = new SignatureVerifier(List.of(secret), Duration.ofMinutes(5), Clock.systemUTC());
    server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      if (request.method() != HttpMethod.POST) {
        // The generator opens its connections with a GET before the run: not a webhook.
        request.response().setStatusCode(405).end();
        return;
      }
      long n = received.incrementAndGet();
      if (!verifier.verify(request.headers(), body.getBytes()).accepted()) {
        forged.incrementAndGet();
      }
      answer.accept(request, n);
    })).listen(0, "127.0.0.1").await();
  }

  @AfterEach
  void stopServer() {
    vertx.close().await();
  }

  /** Open loop: exactly the schedule is sent, every request signed, every answer counted once. */
  @Test
  void rateModeSendsTheScheduleSignedAndCountsEveryAnswer() throws Exception {
    answer = (request, n) -> request.response().end("{}");

    JsonObject report = generate("--mode", "rate", "--rate", "500", "--warmup", "1s", "--duration", "2s",
        "--connections", "16", "--server-pid", Long.toString(ProcessHandle.current().pid()));

    JsonObject measured = report.getJsonObject("measured");
    assertThat(measured.getLong("requests")).isEqualTo(1_000);
    assertThat(measured.getLong("acknowledged")).isEqualTo(1_000);
    assertThat(measured.getLong("errors")).isZero();
    assertThat(report.getJsonObject("latency_ms").getLong("count")).isEqualTo(1_000);
    assertThat(report.getJsonObject("totals").getLong("sent")).as("warm-up and window, as the server saw them")
        .isEqualTo(received.get()).isEqualTo(1_500);
    assertThat(forged.get()).as("requests the server could not verify").isZero();
    // The "server" here is this JVM: its event loops answered, and their CPU is reported apart.
    assertThat(report.getJsonObject("server").getJsonObject("cpu_us_per_ack_by_thread")
        .getDouble(ThreadCpu.EVENT_LOOPS)).isPositive();
  }

  /**
   * Latency runs from the scheduled send time: when the server cannot keep up, the queue that builds
   * in front of it is in the figures, not only the server's own 20 ms per answer.
   */
  @Test
  void latencyIncludesTheQueueInFrontOfASlowServer() throws Exception {
    answer = (request, n) -> vertx.setTimer(20, id -> request.response().end("{}"));

    // Two connections of 20 ms answers carry 100/s; 200/s are scheduled.
    JsonObject report = generate("--mode", "rate", "--rate", "200", "--warmup", "1s", "--duration", "2s",
        "--connections", "2");

    JsonObject latency = report.getJsonObject("latency_ms");
    assertThat(latency.getString("from")).isEqualTo("scheduled send time");
    assertThat(latency.getDouble("p99")).as("p99 ms, with a 20 ms server").isGreaterThan(500);
  }

  /** An answer that is not 2xx is an error of the window, never an acknowledgement. */
  @Test
  void answersOtherThan2xxAreErrorsNotAcknowledgements() throws Exception {
    answer = (request, n) -> request.response().setStatusCode(n % 4 == 0 ? 503 : 200).end("{}");

    JsonObject report = generate("--mode", "rate", "--rate", "400", "--warmup", "1s", "--duration", "2s",
        "--connections", "16");

    JsonObject measured = report.getJsonObject("measured");
    assertThat(measured.getLong("requests")).isEqualTo(800);
    assertThat(measured.getLong("acknowledged") + measured.getLong("errors")).isEqualTo(800);
    assertThat(measured.getLong("errors")).isBetween(190L, 210L);
    JsonObject byStatus = report.getJsonObject("errors").getJsonObject("by_status");
    assertThat(byStatus.fieldNames()).containsExactly("503");
    assertThat(report.getJsonObject("totals").getLong("acknowledged"))
        .isEqualTo(received.get() - received.get() / 4);
  }

  /**
   * With {@code --settle}, a server that holds its first answers (a cold start) is given the time
   * to catch up: the window starts once the answers keep pace, and the stall is not in it.
   */
  @Test
  void settleStartsTheWindowOnceTheAnswersKeepPace() throws Exception {
    List<HttpServerRequest> held = new ArrayList<>();
    AtomicLong releaseAt = new AtomicLong();
    answer = (request, n) -> {
      if (n == 1) {
        releaseAt.set(System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
        vertx.setTimer(2_000, id -> held.forEach(r -> r.response().end("{}")));
      }
      if (System.nanoTime() < releaseAt.get()) {
        held.add(request);
      } else {
        request.response().end("{}");
      }
    };

    JsonObject report = generate("--mode", "rate", "--rate", "200", "--warmup", "2s", "--settle", "10s",
        "--duration", "2s", "--connections", "512");

    assertThat(report.getBoolean("steady_at_start")).isTrue();
    assertThat(report.getDouble("warmup_s")).as("warm-up, s").isBetween(4.0, 8.0);
    assertThat(report.getJsonObject("latency_ms").getDouble("max")).as("max ms in the window").isLessThan(500);
    assertThat(report.getJsonObject("measured").getLong("requests")).isEqualTo(400);
  }

  /** A server that never keeps pace gets the whole settling time, and the report says it never did. */
  @Test
  void aServerThatNeverKeepsPaceIsReportedNeverSteady() throws Exception {
    answer = (request, n) -> vertx.setTimer(50, id -> request.response().end("{}"));

    // One connection of 50 ms answers carries 20/s; 100/s are scheduled.
    JsonObject report = generate("--mode", "rate", "--rate", "100", "--warmup", "2s", "--settle", "2s",
        "--duration", "1s", "--connections", "1", "--timeout", "3s");

    assertThat(report.getBoolean("steady_at_start")).isFalse();
    assertThat(report.getDouble("warmup_s")).as("warm-up, s: --warmup plus all of --settle").isEqualTo(4.0);
  }

  /** Settling is decided one mark ahead from two marks in a row: a shorter warm-up would never settle. */
  @Test
  void settleWithTooShortAWarmupIsRefused() throws Exception {
    Process process = new ProcessBuilder(javaCommand("--url", "http://127.0.0.1:9/", "--secret", secret,
        "--mode", "rate", "--warmup", "1s", "--settle", "5s")).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    assertThat(output).contains("--settle needs --warmup of at least 2s");
    assertThat(received.get()).isZero();
  }

  /** Runs the generator in a JVM of its own, as the bench does; its JSON summary. */
  private JsonObject generate(String... options) throws IOException, InterruptedException {
    List<String> command = javaCommand("--url", "http://127.0.0.1:" + server.actualPort() + "/webhooks/openphone",
        "--secret", secret, "--json", "--quiet");
    command.addAll(List.of(options));
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the generator finished").isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as("exit status; its output:\n%s", text).isZero();
    return new JsonObject(text);
  }

  private static List<String> javaCommand(String... arguments) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), LoadGenerator.class.getName()));
    command.addAll(List.of(arguments));
    return command;
  }
}
