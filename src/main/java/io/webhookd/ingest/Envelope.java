package io.webhookd.ingest;

import io.vertx.core.json.JsonObject;
import io.webhookd.event.WebhookEvent;

/**
 * What ingest reads from a body: the event to store, and the facts that decide how urgently the
 * sender is answered.
 *
 * @param text    the message text, or null
 * @param inbound whether the resource came in to the business (a text received)
 * @param json    the parsed body, handed on to a first attempt on arrival so that it is not parsed
 *                again; read only
 */
public record Envelope(WebhookEvent event, String text, boolean inbound, JsonObject json) {
}
