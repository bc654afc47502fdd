package io.webhookd.it;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.webhookd.testing.JsonAnswer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Real HTTP/1.1 to a {@link ServerProcess}, through {@link java.net.http.HttpClient}. */
final class WebhookClient {

  static final String WEBHOOK_PATH = "/webhooks/openphone";
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

  private final ServerProcess server;
  private final HttpClient http;

  WebhookClient(ServerProcess server) {
    this.server = server;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** One answer. Every answer's body is checked not to leak internals (see {@link #leaksInternals}). */
  record Answer(int status, String contentType, String body) {

    JsonObject json() {
      return JsonAnswer.parse(status, body, body);
    }

    /** {@code status} of a 200 answer, {@code error} of an error answer. */
    String code() {
      return JsonAnswer.code(json());
    }

    boolean leaksInternals() {
      return body.contains("Exception") || body.contains("at io.");
    }
  }

  Answer postWebhook(byte[] body, MultiMap headers) {
    return post(WEBHOOK_PATH, body, headers);
  }

  CompletableFuture<Answer> postWebhookAsync(byte[] body, MultiMap headers) {
    return http.sendAsync(postRequest(WEBHOOK_PATH, body, headers), HttpResponse.BodyHandlers.ofString())
        .thenApply(WebhookClient::answer);
  }

  Answer post(String path, byte[] body, MultiMap headers) {
    return send(postRequest(path, body, headers));
  }

  Answer get(String path) {
    return send(HttpRequest.newBuilder(server.uri(path)).timeout(REQUEST_TIMEOUT).GET().build());
  }

  private HttpRequest postRequest(String path, byte[] body, MultiMap headers) {
    HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(path))
        .timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (Map.Entry<String, String> header : headers) {
      request.header(header.getKey(), header.getValue());
    }
    return request.build();
  }

  private Answer send(HttpRequest request) {
    try {
      return answer(http.send(request, HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri() + " failed\n" + server.logTail(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Answer answer(HttpResponse<String> response) {
    Answer answer = new Answer(response.statusCode(),
        response.headers().firstValue("content-type").orElse(""), response.body());
    if (answer.leaksInternals()) {
      throw new AssertionError("the answer leaks internal detail: " + answer);
    }
    return answer;
  }
}
