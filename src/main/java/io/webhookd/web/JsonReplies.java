package io.webhookd.web;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Every answer the service gives over HTTP is a short JSON object; errors are
 * {@code {"error":"<code>","message":"<short text>"}} and never carry internal detail.
 */
public final class JsonReplies {

  private JsonReplies() {
  }

  public static void send(RoutingContext ctx, int status, JsonObject body) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode());
  }

  public static void error(RoutingContext ctx, int status, String code, String message) {
    send(ctx, status, new JsonObject().put("error", code).put("message", message));
  }
}
