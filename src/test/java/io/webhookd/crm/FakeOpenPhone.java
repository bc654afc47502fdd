package io.webhookd.crm;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake OpenPhone API: a real Vert.x HTTP server on a free loopback port that records every request
 * it gets and answers {@code POST /v1/messages} with {@code 200 {"data":{"id":"AC..."}}}, or with
 * 503 for the next N calls when told to ({@link #failNext}). Any other path (an automation rule's
 * POST target) is answered 200 {@code {}}.
 */
final class FakeOpenPhone implements AutoCloseable {

  static final String MESSAGES_PATH = "/v1/messages";

  /** One request as received, and the status it was answered with. */
  record Request(String method, String path, String authorization, String contentType, String body, int status) {

    JsonObject json() {
      return new JsonObject(body);
    }

    boolean isText() {
      return "POST".equals(method) && MESSAGES_PATH.equals(path);
    }

    /** The text's single recipient, or null when this is not a text with exactly one. */
    String to() {
      if (!isText()) {
        return null;
      }
      JsonArray to = json().getJsonArray("to");
      return to != null && to.size() == 1 ? to.getString(0) : null;
    }

    String content() {
      return isText() ? json().getString("content") : null;
    }

    boolean succeeded() {
      return status == 200;
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicInteger ids = new AtomicInteger();

  private FakeOpenPhone(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  static FakeOpenPhone start() throws Exception {
    Vertx vertx = Vertx.vertx();
    FakeOpenPhone[] self = new FakeOpenPhone[1];
    HttpServer server = vertx.createHttpServer()
        .requestHandler(request -> self[0].handle(request))
        .listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    self[0] = new FakeOpenPhone(vertx, server);
    return self[0];
  }

  private void handle(HttpServerRequest request) {
    request.body().onComplete(ar -> {
      String body = ar.succeeded() ? ar.result().toString() : "";
      int status;
      JsonObject answer;
      if ("POST".equals(request.method().name()) && MESSAGES_PATH.equals(request.path())) {
        if (failures.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
          status = 503;
          answer = new JsonObject().put("message", "Service Unavailable");
        } else {
          status = 200;
          answer = new JsonObject().put("data", new JsonObject()
              .put("id", String.format("ACfake%026d", ids.incrementAndGet())).put("status", "queued"));
        }
      } else {
        status = 200;
        answer = new JsonObject();
      }
      requests.add(new Request(request.method().name(), request.path(), request.getHeader("Authorization"),
          request.getHeader("Content-Type"), body, status));
      request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(answer.encode());
    });
  }

  /** The next {@code n} calls of {@code POST /v1/messages} are answered 503. */
  void failNext(int n) {
    failures.set(n);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  /** Every text request (answered either way) to {@code phone}. */
  List<Request> textsTo(String phone) {
    return requests.stream().filter(r -> phone.equals(r.to())).toList();
  }

  /** The texts to {@code phone} that the fake accepted (answered 200). */
  List<Request> deliveredTo(String phone) {
    return textsTo(phone).stream().filter(Request::succeeded).toList();
  }

  /** The contents of the accepted texts to {@code phone}, in order. */
  List<String> contentsDeliveredTo(String phone) {
    return deliveredTo(phone).stream().map(Request::content).toList();
  }

  /** Requests to a path other than the messages API (automation POSTs). */
  List<Request> postsTo(String path) {
    return requests.stream().filter(r -> "POST".equals(r.method()) && path.equals(r.path())).toList();
  }

  @Override
  public void close() {
    try {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while closing the fake OpenPhone API", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("closing the fake OpenPhone API failed", e);
    }
  }
}
