package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.OpenPhoneEnvelope;
import io.webhookd.process.EventHandler;
import io.webhookd.process.InvalidEventException;
import io.webhookd.store.Tx;

/** The older internal design's {@code opt_out} event: the number it names opts out. */
final class OptOutHandler implements EventHandler {

  private final CrmContext crm;

  OptOutHandler(CrmContext crm) {
    this.crm = crm;
  }

  @Override
  public Future<JsonObject> handle(InboxEvent inbox, JsonObject json, Tx tx) {
    OpenPhoneEnvelope envelope = new OpenPhoneEnvelope(json);
    String phone = crm.phones().e164(envelope.from());
    if (phone == null) {
      throw new InvalidEventException("opt_out without a phone number");
    }
    String keyword = envelope.resourceString("keyword") != null ? Keywords.keyword(envelope.resourceString("keyword"))
        : "opt_out";
    long now = System.currentTimeMillis();
    return Contacts.findOrCreate(tx, phone, now)
        .compose(contactId -> Consent.optOut(tx, phone, contactId, keyword, inbox.event().dedupKey(),
            crm.line(envelope.phoneNumberId()), crm.settings().optOutConfirmation(), now)
            .map(changed -> new JsonObject().put("contact_id", contactId).put("opted_out", true)));
  }
}
