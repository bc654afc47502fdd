package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.crm.automation.Automation;
import io.webhookd.crm.automation.AutomationRule;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.OpenPhoneEnvelope;
import io.webhookd.event.WebhookEvent;
import io.webhookd.process.EventHandler;
import io.webhookd.process.InvalidEventException;
import io.webhookd.store.Tx;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Message events: the message row (its status only moving up), the contact behind the other
 * number, and for an inbound text its meaning: an opt-out, an opt-in, a help request, a campaign
 * reply; then the automation rules.
 */
final class MessageHandler implements EventHandler {

  private static final Map<String, String> STATUS = Map.of(
      "message.received", "received", "message.sent", "sent", "message.delivered", "delivered",
      "message.failed", "failed", "message.undelivered", "undelivered");

  private final CrmContext crm;

  MessageHandler(CrmContext crm) {
    this.crm = crm;
  }

  @Override
  public Future<JsonObject> handle(InboxEvent inbox, JsonObject json, Tx tx) {
    return prepare(inbox.event(), json).handle(inbox, tx);
  }

  @Override
  public Prepared prepare(WebhookEvent event, JsonObject json) {
    Message message = read(event.type(), new OpenPhoneEnvelope(json));
    return (inbox, tx) -> apply(inbox, message, tx);
  }

  /** What a message event says, read from its body: the message's row, and what its text means. */
  private record Message(String type, Messages.Facts facts, Keywords.Intent intent) {

    String providerId() {
      return facts.providerId();
    }

    String phone() {
      return facts.phone();
    }

    String text() {
      return facts.body();
    }

    String phoneNumberId() {
      return facts.phoneNumberId();
    }
  }

  private Message read(String type, OpenPhoneEnvelope envelope) {
    String providerId = envelope.resourceString("id");
    if (providerId == null || providerId.isBlank()) {
      throw new InvalidEventException(type + " without a message id");
    }
    boolean inbound = "message.received".equals(type) || envelope.inbound();
    String from = crm.phones().e164(envelope.from());
    List<String> to = envelope.to().stream().map(crm.phones()::e164).filter(Objects::nonNull).toList();
    String text = envelope.text();
    Messages.Facts facts = new Messages.Facts(providerId, inbound ? "incoming" : "outgoing",
        inbound ? from : (to.isEmpty() ? null : to.get(0)), from, String.join(",", to), text, media(envelope),
        STATUS.get(type), errorCode(envelope), envelope.conversationId(), envelope.phoneNumberId(),
        envelope.userId(), inbound ? null : envelope.resourceInstant("createdAt"));
    return new Message(type, facts,
        "message.received".equals(type) ? crm.keywords().intent(text) : Keywords.Intent.NONE);
  }

  private Future<JsonObject> apply(InboxEvent inbox, Message m, Tx tx) {
    long now = System.currentTimeMillis();
    JsonObject result = new JsonObject().put("message", m.providerId()).put("status", STATUS.get(m.type()));

    return Messages.upsert(tx, m.facts(), now).compose(contactId -> {
      result.put("contact_id", contactId);
      Future<Void> effects = Future.succeededFuture();
      if ("message.received".equals(m.type()) && m.phone() != null) {
        effects = inboundText(tx, inbox, m, contactId, result, now);
      }
      return effects.compose(v -> automate(crm, tx, inbox, m.text(), m.phone(), contactId, m.phoneNumberId(),
          result.getString("campaign"), result, now));
    }).map(result);
  }

  private Future<Void> inboundText(Tx tx, InboxEvent inbox, Message m, Long contactId, JsonObject result, long now) {
    String eventKey = inbox.event().dedupKey();
    String line = crm.line(m.phoneNumberId());
    String phone = m.phone();
    String text = m.text();
    Keywords.Intent intent = m.intent();
    Future<Void> consent = switch (intent) {
      case OPT_OUT -> Consent.optOut(tx, phone, contactId, Keywords.keyword(text), eventKey, line,
          crm.settings().optOutConfirmation(), now).map(changed -> {
            result.put("opted_out", true);
            return null;
          });
      case OPT_IN -> Consent.optIn(tx, phone, contactId, Keywords.keyword(text), eventKey, line,
          crm.settings().optInConfirmation(), now).map(changed -> {
            result.put("opted_in", true);
            return null;
          });
      case HELP -> OutboundQueue.enqueue(tx, "help:" + eventKey, OutboundQueue.Kind.HELP, phone, line,
          crm.settings().helpText(), null, now).map(queued -> {
            result.put("help_sent", true);
            return null;
          });
      case NONE -> Future.succeededFuture();
    };
    long at = inbox.event().occurredAt();
    return consent.compose(v -> Campaigns.answeredBy(tx, phone, at)).compose(campaign -> {
      if (campaign == null) {
        return Future.succeededFuture();
      }
      Keywords.Reply reply = intent == Keywords.Intent.OPT_OUT ? Keywords.Reply.NOT_INTERESTED
          : crm.keywords().classify(text);
      result.put("campaign", campaign.name());
      return Campaigns.recordResponse(tx, campaign, phone, m.providerId(), reply, text, at, now)
          .map(recorded -> {
            result.put("campaign_response", reply.dbValue());
            return null;
          });
    });
  }

  /** Runs the automation rules for an event about {@code contactId}; shared by every handler. */
  static Future<Void> automate(CrmContext crm, Tx tx, InboxEvent inbox, String text, String phone, Long contactId,
      String line, String campaign, JsonObject result, long now) {
    Automation automation = crm.automation();
    if (automation.isEmpty()) {
      return Future.succeededFuture();
    }
    Future<List<String>> tags = contactId == null ? Future.succeededFuture(List.of()) : Contacts.tags(tx, contactId);
    return tags.compose(contactTags -> automation.apply(tx, inbox,
            new AutomationRule.Facts(inbox.event().type(), text, new HashSet<>(contactTags), campaign),
            new Automation.Subject(contactId, phone, crm.line(line)), now))
        .map(fired -> {
          if (!fired.isEmpty()) {
            result.put("automations", new JsonArray(fired));
          }
          return null;
        });
  }

  private static String media(OpenPhoneEnvelope envelope) {
    List<String> urls = envelope.mediaUrls();
    return urls.isEmpty() ? null : new JsonArray(urls).encode();
  }

  private static String errorCode(OpenPhoneEnvelope envelope) {
    Object value = envelope.resourceValue("errorCode");
    String code = value instanceof String || value instanceof Number ? String.valueOf(value) : null;
    if (code == null && envelope.resourceObject("error") != null) {
      Object nested = envelope.resourceObject("error").getValue("code");
      code = nested == null ? null : String.valueOf(nested);
    }
    return code;
  }
}
