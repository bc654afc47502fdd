package io.webhookd.cli;

import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.InboxStore;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code webhookd dlq discard}: dead letters resolved without processing, kept for audit. */
@Command(
    name = "discard",
    mixinStandardHelpOptions = true,
    description = {"Resolve dead letters without processing them. The events stay stored (status discarded),"
        + " with the reason and who discarded them.",
        "All or nothing: if one ID is not an open dead letter, nothing changes."},
    footer = {"", "Example:", "  webhookd dlq discard 42 43 --reason \"test events from the staging number\""})
final class DlqDiscardCommand extends StoreCommand {

  @Parameters(paramLabel = "ID", arity = "1..*", description = "Inbox ids of open dead letters.")
  List<Long> ids;

  @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "Why; kept with each dead letter.")
  String reason;

  @Option(names = "--json", description = "Print what was discarded as a JSON array.")
  boolean json;

  @Override
  void validate() {
    if (reason.isBlank()) {
      throw usage("--reason must not be empty");
    }
  }

  @Override
  int run(InboxStore store) {
    List<DeadLetterQueue.Entry> discarded;
    try {
      discarded = new DeadLetterQueue(store, actor()).discard(ids, reason).await();
    } catch (DeadLetterQueue.NotOpenException e) {
      err().println("webhookd: " + e.getMessage());
      return ExitCode.SOFTWARE;
    }
    if (json) {
      Output.json(out(), Output.jsonDeadLetters(discarded));
    } else {
      Output.deadLetters(out(), discarded);
    }
    err().println("discarded " + discarded.size() + (discarded.size() == 1 ? " dead letter" : " dead letters"));
    return ExitCode.OK;
  }
}
