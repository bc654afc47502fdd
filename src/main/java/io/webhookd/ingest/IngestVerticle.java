package io.webhookd.ingest;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.webhookd.config.Settings;
import io.webhookd.event.ContentHash;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.process.ProcessingWatch;
import io.webhookd.process.WorkIntake;
import io.webhookd.store.AppendResult;
import io.webhookd.store.RejectedRequest;
import io.webhookd.web.JsonReplies;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public webhook listener, one instance per event loop. A request is answered 2xx only after
 * its event is authenticated, known to be new or already stored, and durably committed.
 */
public final class IngestVerticle extends VerticleBase {

  public static final String PATH = "/webhooks/openphone";
  private static final Logger LOG = LoggerFactory.getLogger(IngestVerticle.class);

  private static final String RECEIVED_AT = "webhookd.receivedAt";
  private static final String BODY_TIMER = "webhookd.bodyTimer";
  private static final String BODY_ARRIVED = "webhookd.bodyArrived";

  private final Settings.Http settings;
  private final IngestContext ingest;
  private HttpServer server;
  private volatile boolean stopping;

  public IngestVerticle(Settings.Http settings, IngestContext ingest) {
    this.settings = settings;
    this.ingest = ingest;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    // Once stopping, every answer closes its connection, so keep-alive clients cannot hold the
    // graceful shutdown open until its timeout.
    router.route().handler(ctx -> {
      ctx.put(RECEIVED_AT, System.nanoTime());
      if (stopping) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
      ctx.next();
    });
    router.route().handler(ingest.gate()::handle);
    // Its own route: Vert.x Web wants the body handler first on the route that reads the body.
    router.post(PATH).handler(this::bodyDeadline);
    router.post(PATH)
        .handler(BodyHandler.create(false).setBodyLimit(settings.maxBodyBytes()))
        .handler(this::receive);
    router.errorHandler(400, ctx -> JsonReplies.error(ctx, 400, "bad_request", "the request is malformed"));
    router.errorHandler(408, ctx -> {
      ingest.metrics().rejected("request_timeout");
      closeAfterAnswer(ctx);
      JsonReplies.error(ctx, 408, "request_timeout", "the request took too long to arrive");
    });
    router.errorHandler(404, ctx -> JsonReplies.error(ctx, 404, "not_found", "no such endpoint"));
    router.errorHandler(405, ctx -> JsonReplies.error(ctx, 405, "method_not_allowed", "use POST"));
    router.errorHandler(413, ctx -> {
      ingest.metrics().rejected("payload_too_large");
      JsonReplies.error(ctx, 413, "payload_too_large", "the body exceeds " + settings.maxBodyBytes() + " bytes");
    });
    router.errorHandler(500, ctx -> {
      LOG.error("unexpected failure on {}", ctx.request().path(), ctx.failure());
      JsonReplies.error(ctx, 500, "internal_error", "the request could not be handled");
    });
    HttpServerOptions options = new HttpServerOptions()
        .setHost(settings.host())
        .setPort(settings.port())
        .setMaxHeaderSize(settings.maxHeaderBytes())
        .setIdleTimeout((int) settings.idleTimeout().toSeconds())
        .setIdleTimeoutUnit(TimeUnit.SECONDS)
        // No WebSockets are served: without these the pipeline keeps an extension handler that
        // every response passes through.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false);
    if (ingest.tls().enabled()) {
      options.setSsl(true).setKeyCertOptions(ingest.tls().keyCert());
    }
    server = vertx.createHttpServer(options);
    ingest.tls().register(server);
    return server.connectionHandler(ingest.gate().connections()::opened)
        .invalidRequestHandler(this::invalidRequest)
        .requestHandler(router)
        .listen();
  }

  @Override
  public Future<?> stop() {
    // Stop accepting, let requests in flight (and their commits) finish.
    stopping = true;
    ingest.tls().unregister(server);
    return server.shutdown(settings.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * A client that trickles its body cannot hold the request open: 408 once the request timeout
   * passes before the body has arrived. Waiting for storage or processing afterwards is not counted.
   */
  private void bodyDeadline(RoutingContext ctx) {
    long timer = vertx.setTimer(settings.requestTimeout().toMillis(), id -> {
      if (!ctx.response().ended() && ctx.get(BODY_ARRIVED) == null) {
        ctx.fail(408);
      }
    });
    ctx.put(BODY_TIMER, timer);
    ctx.addEndHandler(v -> vertx.cancelTimer(timer));
    ctx.next();
  }

  /**
   * What the HTTP decoder refused (headers too large, a request line too long, garbage): the same
   * uniform JSON error and request id as every other answer, then the connection closes.
   */
  private void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status = cause instanceof TooLongHttpHeaderException ? 431
        : cause instanceof TooLongHttpLineException ? 414 : 400;
    String code = status == 431 ? "headers_too_large" : status == 414 ? "uri_too_long" : "bad_request";
    ingest.metrics().rejected(code);
    request.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .putHeader(RequestGate.REQUEST_ID_HEADER, UUID.randomUUID().toString())
        .end(new JsonObject().put("error", code).put("message", "the request is malformed or too large").encode())
        .onComplete(ar -> request.connection().close());
  }

  /** The answer says the connection closes, and it does: a refused client cannot hold it. */
  static void closeAfterAnswer(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ctx.addEndHandler(v -> ctx.request().connection().close());
  }

  private void receive(RoutingContext ctx) {
    ctx.put(BODY_ARRIVED, Boolean.TRUE);
    Long timer = ctx.get(BODY_TIMER);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
    long receivedAt = System.currentTimeMillis();
    Buffer raw = ctx.body().buffer();
    byte[] body = raw == null ? new byte[0] : raw.getBytes();
    Verdict verdict = ingest.verifier().verify(ctx.request().headers(), body);
    if (!verdict.accepted()) {
      LOG.atWarn().addKeyValue("request_id", ctx.<String>get(RequestGate.REQUEST_ID))
          .log("refused webhook from {}: {} ({})", ctx.request().remoteAddress(), verdict.detail(),
              verdict.scheme() == null ? "no scheme" : verdict.scheme());
      boolean stale = verdict.outcome() == Verdict.Outcome.STALE_TIMESTAMP;
      ingest.metrics().rejected(stale ? "stale_timestamp" : "invalid_signature");
      JsonReplies.error(ctx, 401, stale ? "stale_timestamp" : "invalid_signature",
          stale ? "the signed timestamp is outside the accepted window" : "the signature is not valid");
      return;
    }
    Envelope envelope;
    try {
      envelope = EnvelopeParser.parse(body, verdict.scheme(), verdict.webhookId(), receivedAt);
    } catch (InvalidEnvelopeException e) {
      reject(ctx, verdict, body, receivedAt, e);
      return;
    }
    WebhookEvent event = envelope.event();
    if (verdict.secretIndex() > 0) {
      OldSecretNotice.used(ingest.metrics(), verdict.scheme());
    }
    String key = event.dedupKey();
    // A critical event's answer waits for its processing; the wait starts before the event is
    // stored, so that processing cannot finish unseen in between.
    boolean critical = ingest.critical().isCritical(event.type(), envelope.text(), envelope.inbound());
    ProcessingWatch.Waiting processed = critical ? ingest.watch().await(vertx, key, ingest.criticalBudget()) : null;
    ingest.dedup().knownBy(key)
        .compose(tier -> {
          if (tier != null) {
            duplicate(event, tier);
            return Future.succeededFuture(AppendResult.DUPLICATE);
          }
          return store(event, envelope.json()).onSuccess(result -> {
            ingest.dedup().remember(key);
            if (!result.stored()) {
              duplicate(event, "store");
            }
          });
        })
        .onSuccess(result -> {
          ingest.metrics().received(event.type(), event.source());
          LOG.atDebug().addKeyValue("request_id", ctx.<String>get(RequestGate.REQUEST_ID))
              .addKeyValue("event_id", event.eventId()).addKeyValue("type", event.type())
              .log(result.stored() ? "stored" : "duplicate");
          if (!result.stored()) {
            if (critical) {
              processed.cancel();
            }
            acknowledge(ctx, new JsonObject().put("status", "duplicate_ignored").put("event_id", event.eventId()));
            return;
          }
          if (critical) {
            processed.result().onComplete(ar -> answerProcessed(ctx, event, ar.succeeded() ? ar.result() : null));
          } else {
            queued(ctx, event);
          }
        })
        .onFailure(e -> {
          if (critical) {
            processed.cancel();
          }
          LOG.atError().addKeyValue("request_id", ctx.<String>get(RequestGate.REQUEST_ID))
              .addKeyValue("event_id", event.eventId()).addKeyValue("type", event.type())
              .log("could not store the event: {}", e.getMessage());
          ingest.metrics().rejected("storage_unavailable");
          JsonReplies.error(ctx, 503, "storage_unavailable", "the event could not be stored; retry later");
        });
  }

  /**
   * Stores the event, claimed for processing in the same commit when there is room (and, where the
   * store can, processed in it too), and passes it on to processing.
   */
  private Future<AppendResult> store(WebhookEvent event, JsonObject json) {
    WorkIntake intake = ingest.intake();
    WorkIntake.Arrival arrival = intake.reserve() ? intake.arriving(event, json) : null;
    Future<AppendResult> appended = arrival != null
        ? ingest.store().appendClaimed(event, intake.owner(), intake.leaseMillis(), arrival)
        : ingest.store().append(event);
    return appended.andThen(ar -> {
      AppendResult result = ar.succeeded() ? ar.result() : AppendResult.DUPLICATE;
      if (result.attempted()) {
        arrival.attempted();
        return;
      }
      if (result.claimed()) {
        intake.adopt(new InboxEvent(result.inboxId(), 1, event));
        return;
      }
      if (arrival != null) {
        intake.cancel(event);
      }
      if (result.stored()) {
        intake.wake();
      }
    });
  }

  private void duplicate(WebhookEvent event, String tier) {
    ingest.metrics().duplicate(tier);
    ingest.store().recordDuplicate(event, tier);
  }

  /** What was done, when processing finished within the budget; else "queued". */
  private void answerProcessed(RoutingContext ctx, WebhookEvent event, JsonObject result) {
    if (result != null) {
      acknowledge(ctx, new JsonObject().put("status", "processed").put("event_id", event.eventId())
          .put("result", result));
    } else {
      queued(ctx, event);
    }
  }

  private void queued(RoutingContext ctx, WebhookEvent event) {
    acknowledge(ctx, new JsonObject().put("status", "queued").put("event_id", event.eventId()));
  }

  private void acknowledge(RoutingContext ctx, JsonObject answer) {
    // Counted before the answer leaves: a sender that has its answer finds it in the metrics.
    Long receivedAt = ctx.get(RECEIVED_AT);
    if (receivedAt != null) {
      ingest.metrics().acknowledged(System.nanoTime() - receivedAt);
    }
    JsonReplies.send(ctx, 200, answer);
  }

  /** A signed body we cannot read: kept once for an operator, and the sender is told why. */
  private void reject(RoutingContext ctx, Verdict verdict, byte[] body, long receivedAt, InvalidEnvelopeException e) {
    String hash = ContentHash.of(body);
    LOG.atWarn().addKeyValue("request_id", ctx.<String>get(RequestGate.REQUEST_ID))
        .log("signed request with unreadable body {} kept for inspection: {}", hash, e.getMessage());
    ingest.metrics().rejected(e.code());
    ingest.store().quarantine(new RejectedRequest(hash, e.code(), verdict.scheme(),
            ctx.request().getHeader(HttpHeaders.CONTENT_TYPE), receivedAt, body))
        .onComplete(ar -> {
          if (ar.failed()) {
            LOG.error("could not keep rejected request {}: {}", hash, ar.cause().getMessage());
          }
          JsonReplies.error(ctx, 400, e.code(), e.getMessage());
        });
  }
}
