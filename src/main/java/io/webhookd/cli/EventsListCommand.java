package io.webhookd.cli;

import io.vertx.core.json.JsonArray;
import io.webhookd.store.EventLog;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;

/** {@code webhookd events list}: stored events, newest first. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List stored events, newest first.",
    footer = {"", "Example:", "  webhookd events list --status dead --type message.received --since 1d --json"})
final class EventsListCommand extends StoreCommand {

  @Option(names = "--status", paramLabel = "STATUS",
      description = "Only events in this status: pending, processing, processed, ignored, dead or discarded.")
  String status;

  @Option(names = "--type", paramLabel = "TYPE", description = "Only this event type, e.g. call.completed.")
  String type;

  @Option(names = "--since", paramLabel = "WHEN", converter = SinceConverter.class,
      description = "Only those received since then: a duration back from now (30m, 2h, 7d) or an ISO-8601 instant.")
  Instant since;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--json", description = "Print a JSON array.")
  boolean json;

  private InboxStatus wanted;

  @Override
  void validate() {
    if (limit < 1) {
      throw usage("--limit must be at least 1");
    }
    if (status != null) {
      try {
        wanted = InboxStatus.fromDb(status.trim());
      } catch (IllegalArgumentException e) {
        throw usage("--status must be one of " + String.join(", ",
            Arrays.stream(InboxStatus.values()).map(InboxStatus::dbValue).toList()));
      }
    }
  }

  @Override
  int run(InboxStore store) {
    List<EventLog.Event> events = new EventLog(store)
        .list(new EventLog.Filter(wanted, type, since == null ? null : since.toEpochMilli(), limit + 1))
        .await();
    boolean more = events.size() > limit;
    events = more ? events.subList(0, limit) : events;
    if (json) {
      JsonArray array = new JsonArray();
      events.forEach(event -> array.add(Output.json(event)));
      Output.json(out(), array);
    } else if (events.isEmpty()) {
      err().println("no stored events" + (wanted != null || type != null || since != null ? " match" : ""));
    } else {
      List<List<String>> rows = new ArrayList<>();
      for (EventLog.Event event : events) {
        rows.add(List.of(Long.toString(event.inboxId()), Output.time(event.receivedAt()), event.type(),
            event.status(), Integer.toString(event.attempts()), Output.eventRef(event.source(), event.eventId())));
      }
      Output.table(out(), List.of("ID", "RECEIVED", "TYPE", "STATUS", "ATTEMPTS", "EVENT"), rows);
    }
    if (more) {
      err().println("(the newest " + limit + " shown; --limit N shows more)");
    }
    return ExitCode.OK;
  }
}
