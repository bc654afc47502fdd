package io.webhookd.process;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.webhookd.event.CriticalEvents;
import io.webhookd.event.InboxEvent;
import java.util.concurrent.ConcurrentHashMap;
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
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  /** @param url the alert webhook, or empty for none */
  public DeadLetterAlerts(Vertx vertx, String url, MeterRegistry registry) {
    this.vertx = vertx;
    this.url = url;
    this.client = url.isEmpty() ? null : WebClient.create(vertx);
    this.registry = registry;
  }

  public void deadLettered(InboxEvent inbox, String error) {
    String type = inbox.event().type();
    if (!CriticalEvents.TYPES.contains(type)) {
      return;
    }
    LOG.error("critical event {} ({}) is in the dead-letter queue after {} attempts: {}",
        inbox.event().eventId(), type, inbox.attempt(), error);
    counters.computeIfAbsent(type, t -> Counter.builder("webhook.dlq.alerts")
        .description("Critical events (inbound texts, opt-outs) that entered the dead-letter queue")
        .tag("type", t).register(registry)).increment();
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
