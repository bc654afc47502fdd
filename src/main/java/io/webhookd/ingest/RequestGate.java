package io.webhookd.ingest;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.webhookd.config.Settings;
import io.webhookd.observe.Metrics;
import io.webhookd.web.CidrRange;
import io.webhookd.web.JsonReplies;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The checks every request passes before any expensive work (reading the body, verifying, storing):
 * a request id on every answer, the connection cap, the HTTPS-only policy, and rate limits per
 * client address and overall. Over a limit the answer is 429 with {@code Retry-After}; the sender retries, so nothing is
 * lost. Shared by all listener instances.
 */
public final class RequestGate {

  public static final String REQUEST_ID_HEADER = "X-Request-Id";
  /** Where the handlers find the request id. */
  public static final String REQUEST_ID = "webhookd.requestId";
  private static final int MAX_REQUEST_ID_LENGTH = 100;
  private static final List<CidrRange> LOOPBACK = List.of(CidrRange.parse("127.0.0.0/8"), CidrRange.parse("::1"));

  private final Settings.Http settings;
  private final List<CidrRange> trustedProxies;
  private final Bucket global;
  private final Cache<String, Bucket> perClient;
  private final Metrics metrics;
  private final ConnectionLimit connections;

  public RequestGate(Settings.Http settings, Metrics metrics) {
    this.settings = settings;
    this.trustedProxies = settings.trustedProxies().stream().map(CidrRange::parse).toList();
    this.global = bucket(settings.rateLimitGlobal());
    // Maintenance on the event loop, as in the dedup tier: no thread wake-up per batch of requests.
    this.perClient = Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(Duration.ofMinutes(5))
        .executor(Runnable::run).build();
    this.metrics = metrics;
    this.connections = new ConnectionLimit(settings.maxConnections());
  }

  /** Counts the listener's connections; see {@link ConnectionLimit}. */
  public ConnectionLimit connections() {
    return connections;
  }

  /** The router's first handler. */
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String requestId = requestId(request.getHeader(REQUEST_ID_HEADER));
    ctx.put(REQUEST_ID, requestId);
    ctx.response().putHeader(REQUEST_ID_HEADER, requestId);

    if (connections.isOver(request.connection())) {
      metrics.rejected("too_many_connections");
      IngestVerticle.closeAfterAnswer(ctx);
      JsonReplies.error(ctx, 503, "too_many_connections", "the server has too many open connections; retry later");
      return;
    }
    String peer = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    boolean viaTrustedProxy = peer != null && trustedProxies.stream().anyMatch(range -> range.contains(peer));
    if (settings.httpsOnly() && !request.isSSL() && !loopback(peer)
        && !(viaTrustedProxy && "https".equalsIgnoreCase(request.getHeader("X-Forwarded-Proto")))) {
      metrics.rejected("https_required");
      JsonReplies.error(ctx, 403, "https_required", "webhooks are only accepted over HTTPS");
      return;
    }
    String client = viaTrustedProxy ? forwardedClient(request, peer) : String.valueOf(peer);
    // Per client first: a client over its own limit must not use up everyone's.
    long waitNanos = wait(perClient.get(client, c -> bucket(settings.rateLimitPerIp())));
    if (waitNanos == 0) {
      waitNanos = wait(global);
    }
    if (waitNanos > 0) {
      metrics.rejected("rate_limited");
      ctx.response().putHeader("Retry-After", Long.toString(Math.max(1, (waitNanos + 999_999_999) / 1_000_000_000)));
      JsonReplies.error(ctx, 429, "rate_limited", "too many requests; retry later");
      return;
    }
    ctx.next();
  }

  /** The sender's id when it is a plain token, else a fresh one. */
  private static String requestId(String offered) {
    if (offered != null && !offered.isEmpty() && offered.length() <= MAX_REQUEST_ID_LENGTH
        && offered.chars().allMatch(c -> c > ' ' && c <= '~')) {
      return offered;
    }
    // Unique enough to find a request in the logs; no need for SecureRandom on every request.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new UUID(random.nextLong(), random.nextLong()).toString();
  }

  private static boolean loopback(String address) {
    return LOOPBACK.stream().anyMatch(range -> range.contains(address));
  }

  /** The client a trusted proxy names: the last address it appended to {@code X-Forwarded-For}. */
  private static String forwardedClient(HttpServerRequest request, String peer) {
    String forwarded = request.getHeader("X-Forwarded-For");
    if (forwarded == null || forwarded.isBlank()) {
      return peer;
    }
    String[] hops = forwarded.split(",");
    String last = hops[hops.length - 1].trim();
    return last.isEmpty() ? peer : last;
  }

  private static long wait(Bucket bucket) {
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    return probe.isConsumed() ? 0 : Math.max(1, probe.getNanosToWaitForRefill());
  }

  private static Bucket bucket(int perSecond) {
    return Bucket.builder()
        .addLimit(limit -> limit.capacity(perSecond).refillGreedy(perSecond, Duration.ofSeconds(1)))
        .build();
  }
}
