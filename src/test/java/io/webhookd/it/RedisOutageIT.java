package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.chaos.TcpProxy;
import io.webhookd.chaos.TcpProxy.Mode;
import io.webhookd.it.Readiness.Verdict;
import io.webhookd.it.Traffic.Sent;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestServices;
import io.webhookd.testing.TestSigner;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Redis is optional and never in the way: the server reaches Redis through a {@link TcpProxy}, and
 * the test takes Redis away in the middle of a stream of webhooks, refused (Redis down) or
 * blackholed (Redis or the network hangs). Ingest keeps answering 2xx, readiness says "degraded"
 * and names Redis, the outage is logged once, duplicates are still stored once; when Redis is back
 * the service uses it again and reports healthy, without a restart; nothing acknowledged is lost.
 * And a Redis that is slow rather than gone is reported as degraded, its slowness logged once.
 *
 * <p>The log checks are soft: a log flood does not hide what the rest of a scenario finds.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisOutageIT {

  private static final String SECRET = TestSigner.newOpenPhoneSecret();
  private static final int MAX_IN_FLIGHT = 16;
  private static final String REDIS_PREFIX = "webhookd:seen:openphone:";
  /**
   * The server's {@code redis.timeout} in every case. Any Redis call slower than it sets the tier
   * aside, and a key the tier does not write then is never written; with the default 250 ms a busy
   * machine alone (scheduling, a cold connection) was enough, and "the first events known to Redis"
   * timed out (2 s was still seen to fire at a load average near 20). The waits for a verdict allow
   * for it.
   */
  private static final Duration REDIS_TIMEOUT = Duration.ofSeconds(5);
  /** How late a slow Redis answers: clearly above {@link #REDIS_TIMEOUT}, however loaded the machine. */
  private static final Duration SLOW_REDIS = REDIS_TIMEOUT.multipliedBy(2);
  /** Long enough for the tier to notice an outage or a slow answer (one timeout) and readiness to say so. */
  private static final Duration VERDICT_WAIT = REDIS_TIMEOUT.plusSeconds(15);
  private static final Pattern OUTAGE_LINE = Pattern.compile("Redis dedup tier unavailable");
  private static final Pattern BACK_LINE = Pattern.compile("Redis dedup tier is reachable again");
  /** A warning or an error, in the plain pattern layout or as a JSON line. */
  private static final Pattern WARNING_OR_ERROR =
      Pattern.compile("\"level\"\\s*:\\s*\"(WARN|WARNING|ERROR)\"|^\\S+\\s+(WARN|ERROR)\\s");

  @TempDir
  Path dataDir;

  @ParameterizedTest(name = "Redis {0}")
  @EnumSource(Mode.class)
  void ingestCarriesOnThroughARedisOutageAndUsesRedisAgainWhenItIsBack(Mode mode) throws Exception {
    URI redis = URI.create(TestServices.redis());
    SoftAssertions logChecks = new SoftAssertions();
    try (PrivateDatabase pg = PrivateDatabase.create("redis" + mode.name());
         TcpProxy proxy = TcpProxy.to(redis.getHost(), redisPort(redis));
         ServerProcess server = start(pg, proxy, "redis-outage-" + mode.name().toLowerCase())) {
      Stream stream = new Stream(new WebhookClient(server));
      Poll.until("ready and healthy with Redis", Duration.ofSeconds(10), () -> Readiness.of(server),
          v -> v.is(200, "healthy") && "healthy".equals(v.check("redis")));

      // -- before: new events, and a duplicate of some
      List<String> before = stream.newEvents(40, 1);
      assertThat(stream.resend(before.subList(0, 20))).allMatch(s -> "duplicate_ignored".equals(s.code()));
      Poll.until("the first events known to Redis", Duration.ofSeconds(10),
          () -> redisKnows(redis, before.get(0)), known -> known);

      // -- Redis goes away, mid-stream
      int logMark = logLines(server);
      proxy.cut(mode);
      List<String> during = stream.newEvents(40, 2);
      List<Sent> duringDuplicates = stream.resend(before.subList(20, 40));

      Verdict degraded = Poll.until("/ready degraded, naming Redis", VERDICT_WAIT,
          () -> Readiness.of(server), v -> v.is(200, "degraded") && "degraded".equals(v.check("redis")));
      assertThat(degraded.check("store")).as("the store check while Redis is away: %s", degraded)
          .isEqualTo("healthy");

      List<String> duringAfterVerdict = stream.newEvents(20, 2);
      duringDuplicates.addAll(stream.resend(during.subList(0, 15)));
      assertThat(duringDuplicates).as("duplicates sent while Redis is away")
          .allMatch(s -> "duplicate_ignored".equals(s.code()));
      List<String> outageLog = logSince(server, logMark);
      logChecks.assertThat(count(outageLog, OUTAGE_LINE)).as("outage lines logged during the outage")
          .isEqualTo(1);
      List<String> warnings = warningsAndErrors(outageLog);
      logChecks.assertThat(warnings.size() == 1 && OUTAGE_LINE.matcher(warnings.get(0)).find())
          .withFailMessage("during the outage the only warning or error should be the one outage line;"
              + " %d were logged (of %d lines), by kind: %s", warnings.size(), outageLog.size(), summary(warnings))
          .isTrue();

      // -- Redis is back: healthy again without a restart, and used again
      proxy.restore();
      Verdict healthy = Poll.until("/ready healthy again", VERDICT_WAIT,
          () -> Readiness.of(server), v -> v.is(200, "healthy") && "healthy".equals(v.check("redis")));
      assertThat(healthy.check("store")).isEqualTo("healthy");
      List<String> after = stream.newEvents(40, 2);
      List<Sent> afterDuplicates = stream.resend(during.subList(15, 40));
      afterDuplicates.addAll(stream.resend(duringAfterVerdict));
      afterDuplicates.addAll(stream.resend(after.subList(0, 15)));
      assertThat(afterDuplicates).as("duplicates sent after Redis came back")
          .allMatch(s -> "duplicate_ignored".equals(s.code()));
      Poll.until("events stored after Redis came back known to Redis", Duration.ofSeconds(10),
          () -> redisKnows(redis, after.get(after.size() - 1)), known -> known);
      assertThat(server.isAlive()).isTrue();
      logChecks.assertThat(count(logSince(server, logMark), BACK_LINE)).as("recovery logged").isPositive();

      // -- every answer 2xx; every event stored once and processed once
      assertEveryEventAcknowledgedStoredAndProcessedOnce(stream, pg, server);
      System.out.printf("RedisOutageIT[%s]: %s; %d events; proxy accepted %d connections; %d lines logged"
              + " during the outage%n", mode, Traffic.summary(stream.traffic.outcomes()), stream.bodies.size(),
          proxy.acceptedConnections(), outageLog.size());
      assertThat(server.stop()).as("exit code\n%s", server.logTail()).isZero();
    }
    logChecks.assertAll();
  }

  /**
   * Redis answers, but later than {@code redis.timeout} ({@link #REDIS_TIMEOUT}): the tier stands
   * aside, every lookup counts as "not known" and the store decides. The README promises that
   * readiness reports a slow Redis as degraded; and a Redis that stays slow is one outage, logged
   * once, not an outage and a recovery per request.
   */
  @Test
  void aSlowRedisIsReportedDegradedAndLoggedOnce() throws Exception {
    URI redis = URI.create(TestServices.redis());
    SoftAssertions slowChecks = new SoftAssertions();
    try (PrivateDatabase pg = PrivateDatabase.create("redisslow");
         TcpProxy proxy = TcpProxy.to(redis.getHost(), redisPort(redis));
         ServerProcess server = start(pg, proxy, "redis-slow")) {
      Stream stream = new Stream(new WebhookClient(server));
      Poll.until("ready and healthy with Redis", Duration.ofSeconds(10), () -> Readiness.of(server),
          v -> v.is(200, "healthy") && "healthy".equals(v.check("redis")));
      List<String> before = stream.newEvents(20, 1);
      Poll.until("the first events known to Redis", Duration.ofSeconds(10),
          () -> redisKnows(redis, before.get(before.size() - 1)), known -> known);

      // -- Redis becomes slow: answers come SLOW_REDIS late, well past REDIS_TIMEOUT
      int logMark = logLines(server);
      proxy.delay(SLOW_REDIS);
      List<Verdict> verdicts = new ArrayList<>();
      List<String> slow = new ArrayList<>();
      for (int round = 0; round < 3; round++) {
        List<String> sent = stream.newEvents(10, 2);
        slow.addAll(sent);
        // A slow Redis is set aside (no request waits for it) until a ping answers in time again.
        verdicts.add(Poll.until("/ready degraded while Redis is slow", VERDICT_WAIT,
            () -> Readiness.of(server), v -> "degraded".equals(v.check("redis"))));
      }
      assertThat(stream.resend(slow.subList(0, 10))).as("duplicates while Redis is slow")
          .allMatch(s -> "duplicate_ignored".equals(s.code()));
      List<String> slowLog = logSince(server, logMark);
      slowChecks.assertThat(verdicts).as("/ready while every Redis answer takes %s (the timeout is %s)",
          SLOW_REDIS, REDIS_TIMEOUT).allMatch(v -> v.is(200, "degraded") && "degraded".equals(v.check("redis")));
      slowChecks.assertThat(count(slowLog, OUTAGE_LINE)).as("outage lines while Redis stays slow").isEqualTo(1);
      slowChecks.assertThat(count(slowLog, BACK_LINE)).as("recovery lines while Redis stays slow").isZero();

      // -- Redis fast again
      proxy.delay(Duration.ZERO);
      // A chunk already held back is forwarded when its delay ends; the pings behind it then answer in time.
      Poll.until("/ready healthy again", SLOW_REDIS.plus(VERDICT_WAIT), () -> Readiness.of(server),
          v -> v.is(200, "healthy") && "healthy".equals(v.check("redis")));
      stream.newEvents(10, 2);
      assertEveryEventAcknowledgedStoredAndProcessedOnce(stream, pg, server);
      System.out.printf("RedisOutageIT[slow]: %s; verdicts while slow: %s; %d outage and %d recovery lines%n",
          Traffic.summary(stream.traffic.outcomes()), verdicts, count(slowLog, OUTAGE_LINE),
          count(slowLog, BACK_LINE));
      assertThat(server.stop()).as("exit code\n%s", server.logTail()).isZero();
    }
    slowChecks.assertAll();
  }

  private ServerProcess start(PrivateDatabase pg, TcpProxy proxy, String label) {
    return ServerProcess.builder(dataDir.resolve(label)).label(label)
        .secrets(SECRET)
        .env("WEBHOOKD_PG_URL", pg.url())
        .env("WEBHOOKD_REDIS_URL", "redis://127.0.0.1:" + proxy.port())
        .env("WEBHOOKD_REDIS_TIMEOUT", REDIS_TIMEOUT.toMillis() + "ms")
        .env("WEBHOOKD_PROCESS_INSTANCE_ID", label)
        .start();
  }

  private static void assertEveryEventAcknowledgedStoredAndProcessedOnce(Stream stream, PrivateDatabase pg,
      ServerProcess server) throws Exception {
    List<Sent> outcomes = stream.traffic.outcomes();
    assertThat(outcomes.stream().filter(s -> !s.acknowledged()).toList())
        .as("sends not answered 2xx (%s)\n%s", Traffic.summary(outcomes), server.logTail()).isEmpty();
    int unique = stream.bodies.size();
    try (PgInbox db = PgInbox.open(pg, stream.prefix())) {
      assertThat(db.eventRows()).as("rows stored").isEqualTo(unique);
      assertThat(db.events().keySet()).containsExactlyInAnyOrderElementsOf(stream.bodies.keySet());
      Poll.until("every event processed", Duration.ofSeconds(20), db::statusCounts,
          counts -> counts.equals(Map.of("processed", (long) unique)));
      Map<String, Long> processedRows = db.auditCounts("processed");
      assertThat(processedRows).hasSize(unique);
      assertThat(processedRows.values()).as("'processed' audit rows per event").allMatch(n -> n == 1);
    }
  }

  /** Distinct events over a handful of conversations, each sent {@code copies} times at once. */
  private static final class Stream {
    final WebhookClient client;
    final Traffic traffic = new Traffic(SECRET, MAX_IN_FLIGHT);
    final Map<String, byte[]> bodies = new LinkedHashMap<>();
    final String conversationTag = UUID.randomUUID().toString().substring(0, 8);
    final Instant firstEvent = Instant.now().minusSeconds(3_600);

    Stream(WebhookClient client) {
      this.client = client;
    }

    String prefix() {
      return PgInbox.prefixOf(bodies.keySet().iterator().next());
    }

    /** Sends n new events, each {@code copies} times at once; checks one "queued" and the rest duplicates. */
    List<String> newEvents(int n, int copies) throws Exception {
      List<String> ids = new ArrayList<>();
      List<java.util.concurrent.CompletableFuture<Sent>> sends = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String id = Bodies.uniqueId("redis");
        int k = bodies.size();
        byte[] body = Bodies.inConversation(k % 2 == 0 ? Fixtures.LEGACY_V2_MESSAGE_DELIVERED
            : Fixtures.LEGACY_V3_CALL_COMPLETED, id, "CNro" + conversationTag + "x" + (k % 20),
            firstEvent.plusMillis(k * 100L));
        bodies.put(id, body);
        ids.add(id);
        for (int c = 0; c < copies; c++) {
          sends.add(traffic.send("server", client, id, body));
        }
      }
      List<Sent> outcomes = sends.stream().map(java.util.concurrent.CompletableFuture::join).toList();
      Traffic.byEvent(outcomes).forEach((id, copiesSent) -> {
        List<String> codes = copiesSent.stream().map(Sent::code).sorted().toList();
        List<String> expected = new ArrayList<>();
        for (int c = 1; c < copies; c++) {
          expected.add("duplicate_ignored");
        }
        expected.add("queued");
        assertThat(codes).as("answers to the %d copies of %s: %s", copies, id, copiesSent).isEqualTo(expected);
      });
      return ids;
    }

    /** Sends these (already sent) events again, all at once. */
    List<Sent> resend(List<String> ids) {
      List<java.util.concurrent.CompletableFuture<Sent>> sends = new ArrayList<>();
      ids.forEach(id -> sends.add(traffic.send("server", client, id, bodies.get(id))));
      return new ArrayList<>(sends.stream().map(java.util.concurrent.CompletableFuture::join).toList());
    }
  }

  private static int logLines(ServerProcess server) {
    return (int) server.stderr().lines().count();
  }

  private static List<String> warningsAndErrors(List<String> lines) {
    return lines.stream().filter(l -> WARNING_OR_ERROR.matcher(l).find()).toList();
  }

  /** "level logger: message (start of the stack trace)" to count, for failure messages. */
  private static Map<String, Long> summary(List<String> lines) {
    Map<String, Long> kinds = new java.util.TreeMap<>();
    for (String line : lines) {
      String kind = line.length() > 160 ? line.substring(0, 160) : line;
      if (line.startsWith("{")) {
        try {
          io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject(line);
          String trace = json.getString("stack_trace", "");
          kind = json.getString("level") + " " + json.getString("logger") + ": " + abbreviate(json.getString("message"))
              + (trace.isEmpty() ? "" : " (" + abbreviate(trace.lines().findFirst().orElse("")) + ")");
        } catch (RuntimeException notJson) {
          // keep the raw start of the line
        }
      }
      kinds.merge(kind, 1L, Long::sum);
    }
    return kinds;
  }

  private static String abbreviate(String text) {
    return text == null ? "" : text.length() > 90 ? text.substring(0, 90) + "..." : text;
  }

  private static int redisPort(URI redis) {
    return redis.getPort() < 0 ? 6379 : redis.getPort();
  }

  private static List<String> logSince(ServerProcess server, int line) {
    List<String> lines = server.stderr().lines().toList();
    return lines.subList(Math.min(line, lines.size()), lines.size());
  }

  private static long count(List<String> lines, Pattern pattern) {
    return lines.stream().filter(l -> pattern.matcher(l).find()).count();
  }

  /** EXISTS on the real Redis (not through the proxy), over plain RESP. */
  private static boolean redisKnows(URI redis, String eventId) throws IOException {
    String key = REDIS_PREFIX + eventId;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(redis.getHost(), redis.getPort() < 0 ? 6379 : redis.getPort()), 2_000);
      socket.setSoTimeout(2_000);
      String command = "*2\r\n$6\r\nEXISTS\r\n$" + key.getBytes(StandardCharsets.UTF_8).length + "\r\n" + key + "\r\n";
      socket.getOutputStream().write(command.getBytes(StandardCharsets.UTF_8));
      InputStream in = socket.getInputStream();
      StringBuilder answer = new StringBuilder();
      int ch;
      while ((ch = in.read()) >= 0 && ch != '\n') {
        answer.append((char) ch);
      }
      return answer.toString().trim().equals(":1");
    }
  }
}
