package io.webhookd.dedup;

import static io.webhookd.testing.InProcessServer.freePort;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Response;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Redis dedup tier against the real Redis. Every key a test makes carries a random id of its
 * own and is deleted afterwards; calls are made from a Vert.x context, the test thread waits.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RedisDedupTierTest {

  /** The tier's own key prefix (see {@link RedisDedupTier}). */
  private static final String PREFIX = "webhookd:seen:";
  private static final Duration TTL = Duration.ofMinutes(10);
  private static final Duration TIMEOUT = Duration.ofMillis(500);

  private final String run = "test-" + UUID.randomUUID();
  private final List<String> keys = new ArrayList<>();
  private final List<Redis> clients = new ArrayList<>();
  private Vertx vertx;
  private Context context;
  private RedisAPI admin;

  @BeforeEach
  void connect(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
  }

  @AfterEach
  void cleanUp() throws Exception {
    try {
      if (admin != null && !keys.isEmpty()) {
        List<String> stored = keys.stream().map(k -> PREFIX + k).toList();
        call(() -> admin.del(stored));
        Response left = call(() -> admin.exists(stored));
        assertThat(left.toInteger()).as("test keys deleted").isZero();
      }
    } finally {
      for (Redis client : clients) {
        client.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      }
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private Redis client(String url) {
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(url));
    clients.add(redis);
    return redis;
  }

  /** A tier on the real Redis, plus a second client for looking at what it wrote. */
  private RedisDedupTier realTier() {
    String url = TestServices.redis();
    admin = admin == null ? RedisAPI.api(client(url)) : admin;
    return new RedisDedupTier(client(url), TTL, TIMEOUT);
  }

  /** A key of this test run; deleted after the test. */
  private String key(String name) {
    String key = "openphone:" + run + ":" + name;
    keys.add(key);
    return key;
  }

  private <T> CompletableFuture<T> start(Supplier<Future<T>> call) {
    CompletableFuture<T> outcome = new CompletableFuture<>();
    context.runOnContext(v -> call.get().onComplete(ar -> {
      if (ar.succeeded()) {
        outcome.complete(ar.result());
      } else {
        outcome.completeExceptionally(ar.cause());
      }
    }));
    return outcome;
  }

  private <T> T call(Supplier<Future<T>> call) throws Exception {
    return start(call).get(10, TimeUnit.SECONDS);
  }

  private void run(Runnable action) throws Exception {
    call(() -> {
      action.run();
      return Future.succeededFuture();
    });
  }

  /** Asks again (paced by a Vert.x timer) until the answer satisfies {@code done}, within 10 s. */
  private <T> T eventually(Supplier<Future<T>> call, Predicate<T> done) throws Exception {
    return Poll.eventually(vertx, context, call, done, Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS);
  }

  // ---- against the real Redis -------------------------------------------------------------------

  @Test
  void rememberedKeyIsContained() throws Exception {
    RedisDedupTier tier = realTier();
    String key = key("EV-remembered");
    assertThat(tier.name()).isEqualTo("redis");

    run(() -> tier.remember(key));

    assertThat(eventually(() -> tier.contains(key), known -> known)).isTrue();
    assertThat(tier.healthy()).isTrue();
    Response stored = call(() -> admin.get(PREFIX + key));
    assertThat(stored).as("stored under the tier's prefix").isNotNull();
    assertThat(stored.toString()).isEqualTo("1");
  }

  @Test
  void rememberedKeyExpiresAfterTheConfiguredTtl() throws Exception {
    RedisDedupTier tier = realTier();
    String key = key("EV-ttl");

    run(() -> tier.remember(key));
    eventually(() -> tier.contains(key), known -> known);

    long pttl = call(() -> admin.pttl(PREFIX + key)).toLong();
    assertThat(pttl).as("milliseconds left").isBetween(TTL.toMillis() - 10_000, TTL.toMillis());
  }

  @Test
  void unknownKeyIsNotContained() throws Exception {
    RedisDedupTier tier = realTier();
    String key = key("EV-never-remembered");

    assertThat(call(() -> tier.contains(key))).isFalse();
    assertThat(tier.healthy()).as("a miss is an answer, not an outage").isTrue();
  }

  @Test
  void aMarkAndAQuestionOfOneTurnAreAnsweredInTheirOrder() throws Exception {
    RedisDedupTier tier = realTier();
    String key = key("EV-same-turn");

    boolean known = call(() -> {
      tier.remember(key);
      return tier.contains(key);
    });

    assertThat(known).as("the mark goes out before the question asked after it").isTrue();
  }

  @Test
  void theQuestionsOfOneTurnGoToRedisTogether() throws Exception {
    RedisDedupTier tier = realTier();
    List<String> asked = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      asked.add(key("EV-turn-" + i));
    }
    run(() -> tier.remember(asked.get(0)));
    eventually(() -> tier.contains(asked.get(0)), known -> known);
    long readsBefore = readsProcessed();

    // Each from a duplicate of the event loop's context, as every HTTP request runs on one of its own.
    List<Boolean> answers = call(() -> Future.all(asked.stream().map(key -> ask(tier, key)).toList())
        .map(all -> all.<Boolean>list()));

    long reads = readsProcessed() - readsBefore;
    assertThat(answers).hasSize(200).first().isEqualTo(true);
    assertThat(answers.subList(1, 200)).containsOnly(false);
    assertThat(reads).as("reads Redis made for 200 questions asked in one turn (and this INFO)").isLessThanOrEqualTo(5);
  }

  /** {@code tier.contains(key)} from a new duplicate of the current context; answered there. */
  private static Future<Boolean> ask(RedisDedupTier tier, String key) {
    ContextInternal duplicate = ((ContextInternal) Vertx.currentContext()).duplicate();
    Promise<Boolean> answer = Promise.promise();
    duplicate.runOnContext(v -> tier.contains(key).onComplete(ar -> answer.handle(Vertx.currentContext() == duplicate
        ? ar : Future.failedFuture(new AssertionError("answered on " + Vertx.currentContext() + ", asked on " + duplicate)))));
    return answer.future();
  }

  /** Redis's count of reads from its clients' connections (a pipelined batch is read at once). */
  private long readsProcessed() throws Exception {
    String stats = call(() -> admin.info(List.of("stats"))).toString();
    return stats.lines().filter(line -> line.startsWith("total_reads_processed:"))
        .mapToLong(line -> Long.parseLong(line.substring(line.indexOf(':') + 1).trim())).findFirst().orElseThrow();
  }

  @Test
  void pingSucceedsAgainstTheRealRedis() throws Exception {
    RedisDedupTier tier = realTier();
    call(() -> tier.ping());
    assertThat(tier.healthy()).isTrue();
  }

  // ---- against nothing ---------------------------------------------------------------------------

  @Test
  void whereNothingListensContainsAnswersFalseWithinTheTimeoutAndTheTierTurnsUnhealthy() throws Exception {
    RedisDedupTier tier = new RedisDedupTier(client("redis://127.0.0.1:" + freePort()), TTL, TIMEOUT);
    assertThat(tier.healthy()).as("healthy until an exchange fails").isTrue();

    long started = System.nanoTime();
    boolean known = call(() -> tier.contains("openphone:" + run + ":EV-nowhere"));
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertThat(known).isFalse();
    assertThat(tookMillis).as("answered within the %d ms timeout (plus scheduling)", TIMEOUT.toMillis())
        .isLessThan(TIMEOUT.toMillis() + 250);
    assertThat(tier.healthy()).isFalse();
  }

  @Test
  void whereNothingListensPingFails() throws Exception {
    RedisDedupTier tier = new RedisDedupTier(client("redis://127.0.0.1:" + freePort()), TTL, TIMEOUT);

    CompletableFuture<Void> ping = start(() -> tier.ping());
    try {
      ping.get(10, TimeUnit.SECONDS);
      throw new AssertionError("ping should have failed");
    } catch (ExecutionException expected) {
      assertThat(expected.getCause()).isNotNull();
    }
    assertThat(tier.healthy()).isFalse();
  }

  @Test
  void whereNothingListensRememberFailsQuietlyAndTheTierTurnsUnhealthy() throws Exception {
    RedisDedupTier tier = new RedisDedupTier(client("redis://127.0.0.1:" + freePort()), TTL, TIMEOUT);
    run(() -> tier.remember("openphone:" + run + ":EV-lost"));
    assertThat(eventually(() -> Future.succeededFuture(tier.healthy()), healthy -> !healthy)).isFalse();
  }

  // ---- two instances sharing Redis --------------------------------------------------------------

  /**
   * Two instances, each with its own in-process tier in front of the shared Redis: what one stored
   * the other knows through Redis.
   */
  @Test
  void aKeyRememberedByOneInstanceIsKnownToAnotherThroughRedis() throws Exception {
    RedisDedupTier first = realTier();
    RedisDedupTier second = realTier();
    DedupGuard instanceA = new DedupGuard(List.of(new LocalDedupTier(1000, TTL), first));
    DedupGuard instanceB = new DedupGuard(List.of(new LocalDedupTier(1000, TTL), second));
    String key = key("EV-shared");

    assertThat(call(() -> instanceB.knownBy(key))).as("unknown before anyone stored it").isNull();
    run(() -> instanceA.remember(key));

    assertThat(call(() -> instanceA.knownBy(key))).isEqualTo("caffeine");
    assertThat(eventually(() -> instanceB.knownBy(key), "redis"::equals)).isEqualTo("redis");
    assertThat(call(() -> instanceB.knownBy(key("EV-other")))).isNull();
  }
}
