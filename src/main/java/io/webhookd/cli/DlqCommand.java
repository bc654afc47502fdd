package io.webhookd.cli;

import picocli.CommandLine.Command;

/** {@code webhookd dlq}: the dead-letter queue, for an operator. */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = {"Inspect and resolve the dead-letter queue: events whose processing failed for good.",
        "Replay puts events back for processing; discard resolves them without it. Both are kept for audit."},
    subcommands = {DlqListCommand.class, DlqShowCommand.class, DlqReplayCommand.class, DlqDiscardCommand.class},
    footer = {"", "Example:", "  webhookd dlq list --since 2h", "  webhookd dlq replay 42 43"})
final class DlqCommand {
}
