package io.webhookd.it;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** {@code GET /ready} on a {@link ServerProcess}'s management listener. */
final class Readiness {

  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2))
      .build();

  /** One verdict: the HTTP status and {@code {"status": ..., "checks": {...}}}. */
  record Verdict(int httpStatus, JsonObject body) {

    String status() {
      return body.getString("status");
    }

    /** The named check's status, or null when the verdict has no such check. */
    String check(String name) {
      JsonObject checks = body.getJsonObject("checks");
      JsonObject check = checks == null ? null : checks.getJsonObject(name);
      return check == null ? null : check.getString("status");
    }

    boolean is(int http, String status) {
      return httpStatus == http && status.equals(status());
    }

    @Override
    public String toString() {
      return httpStatus + " " + body.encode();
    }
  }

  private Readiness() {
  }

  /** Asks once; a failed request is a verdict too (status -1, "unreachable"). */
  static Verdict of(ServerProcess server) {
    HttpRequest request = HttpRequest.newBuilder(server.managementUri("/ready"))
        .timeout(Duration.ofSeconds(10)).GET().build();
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      JsonObject body;
      try {
        body = new JsonObject(response.body());
      } catch (DecodeException e) {
        body = new JsonObject().put("status", "not JSON: " + response.body());
      }
      return new Verdict(response.statusCode(), body);
    } catch (IOException e) {
      return new Verdict(-1, new JsonObject().put("status", "unreachable: " + e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
