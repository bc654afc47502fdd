package io.webhookd.cli;

import picocli.CommandLine.Command;

/** {@code webhookd events}: what arrived, and what became of it. */
@Command(
    name = "events",
    mixinStandardHelpOptions = true,
    description = "Look up stored events and their audit trails.",
    subcommands = {EventsListCommand.class, EventsShowCommand.class},
    footer = {"", "Example:", "  webhookd events list --status pending", "  webhookd events show EVc67ec998b35c41d388af50799aeeba3e"})
final class EventsCommand {
}
