package io.webhookd.process;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.webhookd.event.CriticalEvents;
import io.webhookd.event.InboxEvent;
import io.webhookd.observe.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises the alarm when an event that must not be missed (an inbound text, an opt-out) lands in the
 * dead-letter queue: an ERROR log line with the event id, a counter, and, when configured, a
 * Slack-compatible {@code {"text": ...}} POST to an alert webhook, tried a few times.
 */
public final class DeadLetterAlerts {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterAlerts.class);
  private static final int ATTEMPTS = 4;
  private static final long FIRST_DELAY_MILLIS = 500;

  private final Vertx vertx;
  private final WebClient client;
  private final String url;
  private final Metrics metrics;

  /** @param url the alert webhook, or empty for none */
  public DeadLetterAlerts(Vertx vertx, String url, Metrics metrics) {
    this.vertx = vertx;
    this.url = url;
    this.client = url.isEmpty() ? null : WebClient.create(vertx);
    this.metrics = metrics;
  }

  public void deadLettered(InboxEvent inbox, String error) {
    String type = inbox.event().type();
    if (!CriticalEvents.TYPES.contains(type)) {
      return;
    }
    LOG.atError().addKeyValue("event_id", inbox.event().eventId()).addKeyValue("type", type)
        .addKeyValue("attempt", inbox.attempt())
        .log("critical event {} is in the dead-letter queue: {}", inbox.event().eventId(), error);
    metrics.counter("webhook.dlq.alerts", "Critical events (inbound texts, opt-outs) that entered the dead-letter queue",
        "type", Metrics.typeLabel(type)).increment();
    if (client != null) {
      String text = ":rotating_light: webhookd: critical event " + inbox.event().eventId() + " (" + type
          + ") is in the dead-letter queue after " + inbox.attempt() + " attempts: " + error
          + ". Inspect: webhookd dlq show " + inbox.inboxId();
      post(new JsonObject().put("text", text), 1);
    }
  }

  private void post(JsonObject alert, int attempt) {
    client.postAbs(url).sendJsonObject(alert)
        .compose(response -> response.statusCode() / 100 == 2 ? Future.succeededFuture()
            : Future.failedFuture("alert webhook answered HTTP " + response.statusCode()))
        .onFailure(e -> {
          if (attempt < ATTEMPTS) {
            vertx.setTimer(FIRST_DELAY_MILLIS << (attempt - 1), id -> post(alert, attempt + 1));
          } else {
            LOG.error("the alert webhook could not be reached after {} attempts: {}", ATTEMPTS, e.getMessage());
          }
        });
  }

  public void close() {
    if (client != null) {
      client.close();
    }
  }
}
