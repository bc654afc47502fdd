package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.webhookd.config.Settings;
import io.webhookd.process.OutboundHttpException;

/**
 * The part of the OpenPhone API the CRM uses: sending a text ({@code POST /v1/messages}, the API
 * key in the {@code Authorization} header). An error answer fails with
 * {@link OutboundHttpException}, which says whether it is worth retrying.
 */
public final class OpenPhoneClient {

  private final WebClient client;
  private final Settings.OpenPhoneApi settings;

  public OpenPhoneClient(Vertx vertx, Settings.OpenPhoneApi settings) {
    this.settings = settings;
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setConnectTimeout((int) settings.timeout().toMillis())
        .setUserAgent("webhookd"));
  }

  public boolean configured() {
    return !settings.apiKey().isEmpty();
  }

  /** @return the provider's id of the message sent */
  public Future<String> sendText(String from, String to, String content) {
    JsonObject request = new JsonObject().put("content", content).put("to", new JsonArray().add(to));
    if (from != null && !from.isBlank()) {
      request.put("from", from);
    }
    return client.postAbs(settings.baseUrl() + "/v1/messages")
        .putHeader("Authorization", settings.apiKey())
        .timeout(settings.timeout().toMillis())
        .sendJsonObject(request)
        .compose(this::messageId);
  }

  /** POSTs a JSON body to an arbitrary URL (automation rules). */
  public Future<Void> post(String url, String json) {
    return client.postAbs(url)
        .putHeader("Content-Type", "application/json")
        .timeout(settings.timeout().toMillis())
        .sendBuffer(Buffer.buffer(json))
        .compose(response -> response.statusCode() / 100 == 2 ? Future.succeededFuture()
            : Future.failedFuture(new OutboundHttpException(url, response.statusCode())));
  }

  private Future<String> messageId(HttpResponse<Buffer> response) {
    if (response.statusCode() / 100 != 2) {
      return Future.failedFuture(new OutboundHttpException("OpenPhone API", response.statusCode()));
    }
    try {
      JsonObject body = response.bodyAsJsonObject();
      JsonObject data = body == null ? null : body.getJsonObject("data");
      return Future.succeededFuture(data == null ? null : data.getString("id"));
    } catch (RuntimeException e) {
      return Future.succeededFuture(null); // sent; the answer's shape is not ours to check
    }
  }

  public void close() {
    client.close();
  }
}
