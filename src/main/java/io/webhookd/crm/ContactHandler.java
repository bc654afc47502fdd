package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.OpenPhoneEnvelope;
import io.webhookd.process.EventHandler;
import io.webhookd.process.InvalidEventException;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * {@code contact.updated} and {@code contact.deleted}: the OpenPhone contact id, names and numbers
 * kept in step (deleted is a soft delete), the newest event winning over a late older one.
 */
final class ContactHandler implements EventHandler {

  private final CrmContext crm;

  ContactHandler(CrmContext crm) {
    this.crm = crm;
  }

  @Override
  public Future<JsonObject> handle(InboxEvent inbox, JsonObject json, Tx tx) {
    OpenPhoneEnvelope envelope = new OpenPhoneEnvelope(json);
    String openphoneId = envelope.resourceString("id");
    if (openphoneId == null || openphoneId.isBlank()) {
      throw new InvalidEventException(inbox.event().type() + " without a contact id");
    }
    Long updatedAt = envelope.resourceInstant("updatedAt");
    long version = updatedAt != null ? updatedAt : inbox.event().occurredAt();
    long now = System.currentTimeMillis();
    JsonObject result = new JsonObject().put("contact", openphoneId);
    if ("contact.deleted".equals(inbox.event().type())) {
      return Contacts.applyDelete(tx, openphoneId, version, now).map(v -> result.put("deleted", true));
    }
    List<String> phones = phones(envelope).stream().map(crm.phones()::e164).filter(Objects::nonNull).distinct().toList();
    return Contacts.applyUpdate(tx, openphoneId, envelope.resourceString("firstName"),
            envelope.resourceString("lastName"), envelope.resourceString("company"), phones, version, now)
        .compose(contactId -> {
          result.put("contact_id", contactId).put("applied", contactId != null);
          return contactId == null ? Future.succeededFuture()
              : MessageHandler.automate(crm, tx, inbox, null, phones.isEmpty() ? null : phones.get(0), contactId,
                  null, null, result, now);
        })
        .map(result);
  }

  /** Numbers from {@code fields.Phone} (app webhooks) or {@code phoneNumbers[].value} (API). */
  private static List<String> phones(OpenPhoneEnvelope envelope) {
    LinkedHashSet<String> numbers = new LinkedHashSet<>();
    JsonObject fields = envelope.resourceObject("fields");
    if (fields != null && fields.getValue("Phone") instanceof JsonArray list) {
      list.forEach(item -> {
        if (item instanceof String s) {
          numbers.add(s);
        }
      });
    }
    if (envelope.resourceValue("phoneNumbers") instanceof JsonArray list) {
      list.forEach(item -> {
        if (item instanceof JsonObject number && number.getValue("value") instanceof String s) {
          numbers.add(s);
        }
      });
    }
    return new ArrayList<>(numbers);
  }
}
