package io.webhookd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code webhookd} command; each capability an operator needs is a subcommand. */
@Command(
    name = "webhookd",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Receives OpenPhone (Quo) webhooks and turns them into durable, exactly-once effects.",
    subcommands = {ServeCommand.class, CommandLine.HelpCommand.class})
public final class WebhookdCommand {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line as {@code main} runs it; also used by tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new WebhookdCommand());
  }
}
