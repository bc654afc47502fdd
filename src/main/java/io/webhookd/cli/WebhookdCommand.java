package io.webhookd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code webhookd} command; each capability an operator needs is a subcommand. */
@Command(
    name = "webhookd",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Receives OpenPhone (Quo) webhooks and turns them into durable, exactly-once effects.",
    subcommands = {ServeCommand.class, DlqCommand.class, EventsCommand.class, SignCommand.class,
        SendCommand.class, MigrateCommand.class, CheckConfigCommand.class, CampaignCommand.class,
        CommandLine.HelpCommand.class},
    footer = {"", "Example:", "  webhookd serve --config conf/webhookd.yaml", "  webhookd dlq list --since 2h",
        "", "Exit codes: 0 done, 1 failed, 2 usage or configuration error."})
public final class WebhookdCommand {

  public static void main(String[] args) {
    LogFormat.choose();
    CommandLine commandLine = commandLine();
    commandLine.setExecutionStrategy(parseResult -> {
      QuietLogging.unlessServing(parseResult);
      return new CommandLine.RunLast().execute(parseResult);
    });
    System.exit(commandLine.execute(args));
  }

  /** The command line as {@code main} runs it (without {@code main}'s logging set-up); also used by tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new WebhookdCommand()).setCaseInsensitiveEnumValuesAllowed(true);
  }
}
