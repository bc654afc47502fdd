package io.webhookd.cli;

import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.InboxStore;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code webhookd dlq replay}: dead letters back to processing, with a fresh attempt budget. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {"Put dead letters back for processing with a fresh attempt budget: they are pending and due"
        + " now. A running server processes each exactly once within its poll interval"
        + " (process.poll-interval); with no server running, the next start does.",
        "Given IDs are all or nothing: if one is not an open dead letter, nothing changes."},
    footer = {"", "Example:", "  webhookd dlq replay 42 43",
        "  webhookd dlq replay --all --type message.received --since 2h --dry-run"})
final class DlqReplayCommand extends StoreCommand {

  @Parameters(paramLabel = "ID", arity = "0..*", description = "Inbox ids of open dead letters, as dlq list shows them.")
  List<Long> ids;

  @Option(names = "--all", description = "Every open dead letter (narrowed by --type and --since) instead of IDs.")
  boolean all;

  @Option(names = "--type", paramLabel = "TYPE", description = "With --all: only this event type.")
  String type;

  @Option(names = "--since", paramLabel = "WHEN", converter = SinceConverter.class,
      description = "With --all: only those dead-lettered since then (30m, 2h, 7d, or an ISO-8601 instant).")
  Instant since;

  @Option(names = "--dry-run", description = "Show what would be replayed; change nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print what was replayed as a JSON array.")
  boolean json;

  @Override
  void validate() {
    boolean hasIds = ids != null && !ids.isEmpty();
    if (all == hasIds) {
      throw usage("give either the IDs to replay or --all");
    }
    if (!all && (type != null || since != null)) {
      throw usage("--type and --since select dead letters for --all; with IDs, leave them out");
    }
  }

  @Override
  int run(InboxStore store) {
    DeadLetterQueue queue = new DeadLetterQueue(store, actor());
    List<DeadLetterQueue.Entry> replayed;
    try {
      replayed = all
          ? queue.replayAll(new DeadLetterQueue.Filter(type, since == null ? null : since.toEpochMilli(), 0), dryRun).await()
          : queue.replay(ids, dryRun).await();
    } catch (DeadLetterQueue.NotOpenException e) {
      err().println("webhookd: " + e.getMessage());
      return ExitCode.SOFTWARE;
    }
    if (json) {
      Output.json(out(), Output.jsonDeadLetters(replayed));
    } else if (!replayed.isEmpty()) {
      Output.deadLetters(out(), replayed);
    }
    String verb = dryRun ? "would replay " : "replayed ";
    err().println(replayed.isEmpty() ? "no open dead letters match; nothing replayed"
        : verb + replayed.size() + (replayed.size() == 1 ? " dead letter" : " dead letters")
            + (dryRun ? " (dry run: nothing changed)" : "; a running server processes them within "
                + settings.processing().pollInterval().toMillis() + " ms, else the next start does"));
    return ExitCode.OK;
  }
}
