package io.webhookd.cli;

import io.vertx.core.json.JsonObject;
import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.EventLog;
import io.webhookd.store.InboxStore;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code webhookd events show ID}: one event, its raw body and its audit trail. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = "Show one stored event: its state, raw body, dead letter if any, and audit trail (every"
        + " state change, oldest first).",
    footer = {"", "Example:", "  webhookd events show 42",
        "  webhookd events show openphone:EVc67ec998b35c41d388af50799aeeba3e"})
final class EventsShowCommand extends StoreCommand {

  @Parameters(index = "0", paramLabel = "ID",
      description = "The inbox id; or the provider's event id (the webhook-id for Standard Webhooks); or <source>:<event id>.")
  String reference;

  @Option(names = "--json", description = "Print a JSON object.")
  boolean json;

  @Override
  int run(InboxStore store) {
    EventLog.Detail detail;
    try {
      detail = new EventLog(store).show(reference.trim()).await();
    } catch (EventLog.AmbiguousReferenceException e) {
      err().println("webhookd: " + e.getMessage());
      return ExitCode.SOFTWARE;
    }
    if (detail == null) {
      err().println("webhookd: no stored event " + reference);
      return ExitCode.SOFTWARE;
    }
    EventLog.Event event = detail.event();
    DeadLetterQueue.Entry dead = detail.deadLetter();
    if (json) {
      JsonObject object = Output.json(event)
          .put("partition_key", detail.partitionKey())
          .put("due_at", Output.preciseTime(detail.dueAt()))
          .put("lease_owner", detail.leaseOwner())
          .put("lease_until", Output.preciseTime(detail.leaseUntil()))
          .put("first_failed_at", Output.preciseTime(detail.firstFailedAt()))
          .put("last_failed_at", Output.preciseTime(detail.lastFailedAt()));
      Output.putBody(object, detail.body())
          .put("dead_letter", dead == null ? null : Output.json(dead))
          .put("audit", Output.json(detail.audit()));
      Output.json(out(), object);
      return ExitCode.OK;
    }
    PrintWriter out = out();
    Output.field(out, "id", event.inboxId());
    Output.field(out, "event", Output.eventRef(event.source(), event.eventId()));
    Output.field(out, "type", event.type());
    Output.field(out, "status", event.status());
    Output.field(out, "attempts", event.attempts());
    Output.field(out, "occurred", Output.preciseTime(event.occurredAt()));
    Output.field(out, "received", Output.preciseTime(event.receivedAt()));
    Output.field(out, "updated", Output.preciseTime(event.updatedAt()));
    Output.field(out, "due", Output.preciseTime(detail.dueAt()));
    if (detail.leaseOwner() != null) {
      Output.field(out, "claimed by", detail.leaseOwner() + " until " + Output.preciseTime(detail.leaseUntil()));
    }
    Output.field(out, "partition", detail.partitionKey());
    Output.field(out, "scheme", event.scheme());
    if (event.lastError() != null) {
      Output.field(out, "last error", event.lastError());
      Output.field(out, "first failure", Output.preciseTime(detail.firstFailedAt()));
      Output.field(out, "last failure", Output.preciseTime(detail.lastFailedAt()));
    }
    if (dead != null) {
      Output.field(out, "dead letter", dead.open() ? "open since " + Output.preciseTime(dead.deadAt())
          + " (webhookd dlq show " + dead.inboxId() + ")"
          : dead.resolution() + " by " + dead.resolvedBy() + " at " + Output.preciseTime(dead.resolvedAt()));
    }
    out.println();
    Output.body(out, detail.body());
    out.println();
    Output.audit(out, detail.audit());
    return ExitCode.OK;
  }
}
