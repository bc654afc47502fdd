package io.webhookd.cli;

import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.InboxStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;

/** {@code webhookd dlq list}: the open dead letters, oldest first. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List the open dead letters (not yet replayed or discarded), oldest first.",
    footer = {"", "Example:", "  webhookd dlq list --type message.received --since 2h"})
final class DlqListCommand extends StoreCommand {

  @Option(names = "--type", paramLabel = "TYPE", description = "Only this event type, e.g. message.received.")
  String type;

  @Option(names = "--since", paramLabel = "WHEN", converter = SinceConverter.class,
      description = "Only those dead-lettered since then: a duration back from now (30m, 2h, 7d) or an"
          + " ISO-8601 instant.")
  Instant since;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--json", description = "Print a JSON array.")
  boolean json;

  @Override
  void validate() {
    if (limit < 1) {
      throw usage("--limit must be at least 1");
    }
  }

  @Override
  int run(InboxStore store) {
    List<DeadLetterQueue.Entry> entries = new DeadLetterQueue(store, actor())
        .list(new DeadLetterQueue.Filter(type, since == null ? null : since.toEpochMilli(), limit + 1))
        .await();
    boolean more = entries.size() > limit;
    entries = more ? entries.subList(0, limit) : entries;
    if (json) {
      Output.json(out(), Output.jsonDeadLetters(entries));
    } else if (entries.isEmpty()) {
      err().println("no open dead letters" + (type != null || since != null ? " match" : ""));
    } else {
      List<List<String>> rows = new ArrayList<>();
      for (DeadLetterQueue.Entry entry : entries) {
        rows.add(List.of(Long.toString(entry.inboxId()), entry.type(), Integer.toString(entry.attempts()),
            Output.time(entry.firstFailedAt()), Output.time(entry.lastFailedAt()),
            Output.oneLine(entry.error(), Output.TABLE_ERROR_WIDTH)));
      }
      Output.table(out(), List.of("ID", "TYPE", "ATTEMPTS", "FIRST FAILURE", "LAST FAILURE", "ERROR"), rows);
    }
    if (more) {
      err().println("(the first " + limit + " shown; --limit N shows more)");
    }
    return ExitCode.OK;
  }
}
