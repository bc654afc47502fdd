package io.webhookd.dedup;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared tier: keys in Redis, so an instance learns what the others stored. Redis being slow or
 * down never stops ingest: a question it cannot answer in time counts as "not known" (the store
 * still decides). Once Redis fails to answer in time the tier stands aside (no request waits for
 * it) and a ping, once a second, brings it back when Redis answers in time again. Each change is
 * logged once, and readiness reports the tier's state.
 *
 * <p>The questions and marks an event loop sends in one turn go to Redis together, as one batch
 * at the end of that turn: under load a turn holds dozens of requests, each of which alone cost
 * Redis a read and a write and the event loop a write and a timer.
 */
public final class RedisDedupTier implements DedupTier {

  private static final Logger LOG = LoggerFactory.getLogger(RedisDedupTier.class);
  private static final String PREFIX = "webhookd:seen:";
  private static final long PING_EVERY_MILLIS = 1_000;

  private final Redis redis;
  private final String ttlMillis;
  private final long timeoutMillis;
  private final AtomicBoolean healthy = new AtomicBoolean(true);
  private final Map<ContextInternal, Batch> batches = new ConcurrentHashMap<>();

  public RedisDedupTier(Redis redis, Duration ttl, Duration timeout) {
    this.redis = redis;
    this.ttlMillis = Long.toString(ttl.toMillis());
    this.timeoutMillis = timeout.toMillis();
  }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public Future<Boolean> contains(String key) {
    if (!healthy.get()) {
      return Future.succeededFuture(false);
    }
    return send(Request.cmd(Command.EXISTS).arg(PREFIX + key))
        .map(response -> response != null && response.toInteger() > 0)
        .otherwise(failure -> {
          down(failure);
          return false;
        });
  }

  @Override
  public void remember(String key) {
    if (!healthy.get()) {
      return;
    }
    // Written only after the store committed the event, so a crash in between leaves no false mark.
    send(Request.cmd(Command.SET).arg(PREFIX + key).arg("1").arg("NX").arg("PX").arg(ttlMillis))
        .onFailure(this::down);
  }

  /** Whether the tier is in use; for readiness. */
  public boolean healthy() {
    return healthy.get();
  }

  /** Pings Redis once a second, so that the tier comes back by itself. */
  public void watch(Vertx vertx) {
    vertx.setPeriodic(PING_EVERY_MILLIS, id -> ping());
  }

  /** A round trip to Redis within the tier's timeout; the tier is in use again when it succeeds. */
  public Future<Void> ping() {
    return redis.send(Request.cmd(Command.PING))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .onSuccess(r -> up())
        .onFailure(this::down)
        .mapEmpty();
  }

  /** The request's answer within the tier's timeout; sent with the others of this event loop's turn. */
  private Future<Response> send(Request request) {
    ContextInternal context = (ContextInternal) Vertx.currentContext();
    if (context == null) {
      return redis.send(request).timeout(timeoutMillis, TimeUnit.MILLISECONDS);
    }
    // Keyed by the root context: each HTTP request runs on a duplicate of it, one of its own.
    return batches.computeIfAbsent(context.unwrap(), Batch::new).add(request, context);
  }

  /** The requests of one context's current turn; only that context's thread touches it. */
  private final class Batch {
    private final ContextInternal context;
    private List<Request> requests = new ArrayList<>();
    private List<Promise<Response>> answers = new ArrayList<>();

    Batch(ContextInternal context) {
      this.context = context;
    }

    /** @param caller where the answer is delivered: the context of the request that asked */
    Future<Response> add(Request request, ContextInternal caller) {
      if (requests.isEmpty()) {
        context.runOnContext(v -> flush());
      }
      requests.add(request);
      Promise<Response> answer = caller.promise();
      answers.add(answer);
      return answer.future();
    }

    private void flush() {
      List<Request> sent = requests;
      List<Promise<Response>> waiting = answers;
      requests = new ArrayList<>();
      answers = new ArrayList<>();
      redis.batch(sent).timeout(timeoutMillis, TimeUnit.MILLISECONDS).onComplete(ar -> {
        for (int i = 0; i < waiting.size(); i++) {
          if (ar.succeeded()) {
            waiting.get(i).tryComplete(ar.result().get(i));
          } else {
            waiting.get(i).tryFail(ar.cause());
          }
        }
      });
    }
  }

  private void up() {
    if (healthy.compareAndSet(false, true)) {
      LOG.info("Redis dedup tier is reachable again");
    }
  }

  private void down(Throwable failure) {
    if (healthy.compareAndSet(true, false)) {
      LOG.warn("Redis dedup tier unavailable, continuing on the in-process tier and the store: {}",
          failure.getMessage());
    }
  }
}
