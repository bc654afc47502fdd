package io.webhookd.crm.automation;

import io.vertx.core.Future;
import io.webhookd.crm.Contacts;
import io.webhookd.crm.OutboundQueue;
import io.webhookd.crm.WebhookPosts;
import io.webhookd.event.InboxEvent;
import io.webhookd.store.Tx;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the automation rules against an event, in the event's own transaction. A rule fires at
 * most once per event, however often the event is processed (a replay, say).
 */
public final class Automation {

  /** Who the event is about, for the actions. */
  public record Subject(Long contactId, String phone, String fromLine) {
  }

  private final List<AutomationRule> rules;

  public Automation(List<AutomationRule> rules) {
    this.rules = List.copyOf(rules);
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** @return the names of the rules that fired */
  public Future<List<String>> apply(Tx tx, InboxEvent event, AutomationRule.Facts facts, Subject subject, long now) {
    List<String> fired = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (AutomationRule rule : rules) {
      if (rule.matches(facts)) {
        chain = chain.compose(v -> fire(tx, rule, event, subject, now).map(didFire -> {
          if (didFire) {
            fired.add(rule.name());
          }
          return null;
        }));
      }
    }
    return chain.map(v -> fired);
  }

  private static Future<Boolean> fire(Tx tx, AutomationRule rule, InboxEvent event, Subject subject, long now) {
    String eventKey = event.event().dedupKey();
    return tx.update("""
            INSERT INTO automation_firings (rule_name, source, event_id, fired_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (rule_name, source, event_id) DO NOTHING""",
            rule.name(), event.event().source(), event.event().eventId(), now)
        .compose(rows -> {
          if (rows == 0) {
            return Future.succeededFuture(false);
          }
          Future<Void> actions = Future.succeededFuture();
          for (AutomationRule.Action action : rule.actions()) {
            actions = actions.compose(v -> act(tx, rule, action, event, eventKey, subject, now));
          }
          return actions.map(true);
        });
  }

  private static Future<Void> act(Tx tx, AutomationRule rule, AutomationRule.Action action, InboxEvent event,
      String eventKey, Subject subject, long now) {
    if (action.tag() != null && subject.contactId() != null) {
      return Contacts.tag(tx, subject.contactId(), action.tag(), now);
    }
    if (action.reply() != null && subject.phone() != null) {
      return OutboundQueue.enqueue(tx, "rule:" + rule.name() + ":" + eventKey, OutboundQueue.Kind.AUTOMATION,
          subject.phone(), subject.fromLine(), action.reply(), null, now).mapEmpty();
    }
    if (action.post() != null) {
      return WebhookPosts.enqueue(tx, "rule:" + rule.name() + ":" + eventKey + ":" + action.post(),
          action.post(), event, now).mapEmpty();
    }
    return Future.succeededFuture();
  }
}
