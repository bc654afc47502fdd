package io.webhookd.observe;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.webhookd.web.JsonReplies;

/**
 * The management listener, on its own port and by default on loopback only, so that operational
 * endpoints are never exposed on the public webhook port: {@code /metrics} (Prometheus text),
 * {@code /health} (liveness: the event loop answers) and {@code /ready} (readiness: the checks; 503
 * when unhealthy).
 */
public final class ManagementVerticle extends VerticleBase {

  private final String host;
  private final int port;
  private final Readiness readiness;
  private final Metrics metrics;
  private HttpServer server;

  public ManagementVerticle(String host, int port, Readiness readiness, Metrics metrics) {
    this.host = host;
    this.port = port;
    this.readiness = readiness;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics.registry()));
    router.get("/health").handler(ctx -> JsonReplies.send(ctx, 200, new JsonObject().put("status", "healthy")));
    router.get("/ready").handler(ctx -> readiness.evaluate().onComplete(ar -> {
      JsonObject verdict = ar.succeeded() ? ar.result()
          : new JsonObject().put("status", "unhealthy").put("checks", new JsonObject());
      JsonReplies.send(ctx, "unhealthy".equals(verdict.getString("status")) ? 503 : 200, verdict);
    }));
    router.errorHandler(404, ctx -> JsonReplies.error(ctx, 404, "not_found", "no such endpoint"));
    router.errorHandler(405, ctx -> JsonReplies.error(ctx, 405, "method_not_allowed", "use GET"));
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port));
    return server.requestHandler(router).listen();
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }
}
