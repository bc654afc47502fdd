package io.webhookd.cli;

import io.vertx.core.json.JsonObject;
import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.InboxStore;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code webhookd dlq show ID}: one dead letter with everything known about it. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = "Show one dead letter (open or resolved): its failure, stack trace, raw body and audit trail.",
    footer = {"", "Example:", "  webhookd dlq show 42"})
final class DlqShowCommand extends StoreCommand {

  @Parameters(index = "0", paramLabel = "ID", description = "The event's inbox id, as dlq list shows it.")
  long inboxId;

  @Option(names = "--json", description = "Print a JSON object.")
  boolean json;

  @Override
  int run(InboxStore store) {
    DeadLetterQueue.Detail detail = new DeadLetterQueue(store, actor()).show(inboxId).await();
    if (detail == null) {
      err().println("webhookd: no dead letter with id " + inboxId);
      return ExitCode.SOFTWARE;
    }
    if (json) {
      JsonObject object = Output.json(detail.entry())
          .put("status", detail.status())
          .put("partition_key", detail.partitionKey())
          .put("occurred_at", Output.preciseTime(detail.occurredAt()))
          .put("received_at", Output.preciseTime(detail.receivedAt()))
          .put("scheme", detail.scheme())
          .put("stack_trace", detail.stackTrace());
      Output.putBody(object, detail.body()).put("audit", Output.json(detail.audit()));
      Output.json(out(), object);
      return ExitCode.OK;
    }
    PrintWriter out = out();
    DeadLetterQueue.Entry entry = detail.entry();
    Output.field(out, "id", entry.inboxId());
    Output.field(out, "event", Output.eventRef(entry.source(), entry.eventId()));
    Output.field(out, "type", entry.type());
    Output.field(out, "status", detail.status());
    Output.field(out, "resolution", entry.open() ? "open" : entry.resolution() + " by " + entry.resolvedBy()
        + " at " + Output.preciseTime(entry.resolvedAt()));
    Output.field(out, "attempts", entry.attempts());
    Output.field(out, "first failure", Output.preciseTime(entry.firstFailedAt()));
    Output.field(out, "last failure", Output.preciseTime(entry.lastFailedAt()));
    Output.field(out, "dead since", Output.preciseTime(entry.deadAt()));
    Output.field(out, "occurred", Output.preciseTime(detail.occurredAt()));
    Output.field(out, "received", Output.preciseTime(detail.receivedAt()));
    Output.field(out, "partition", detail.partitionKey());
    Output.field(out, "scheme", detail.scheme());
    Output.field(out, "error", entry.error());
    out.println();
    out.println("stack trace:");
    out.println(detail.stackTrace() == null ? "-" : detail.stackTrace().stripTrailing());
    out.println();
    Output.body(out, detail.body());
    out.println();
    Output.audit(out, detail.audit());
    return ExitCode.OK;
  }
}
