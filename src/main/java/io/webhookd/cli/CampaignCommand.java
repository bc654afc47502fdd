package io.webhookd.cli;

import io.webhookd.config.Durations;
import io.webhookd.crm.CampaignLoader;
import io.webhookd.crm.PhoneNumbers;
import io.webhookd.store.InboxStore;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code webhookd campaign load}: a campaign and its recipients from CSV, each texted once. */
@Command(
    name = "campaign",
    mixinStandardHelpOptions = true,
    description = "Campaigns: texts to a list of recipients, whose replies are recorded and classified.",
    subcommands = CampaignCommand.Load.class)
final class CampaignCommand {

  @Command(
      name = "load",
      mixinStandardHelpOptions = true,
      description = {"Create a campaign (or add to one of the same name) and queue its text to every recipient"
          + " in the CSV file, once. The CSV needs a header row with a 'phone' column.",
          "Numbers that opted out are never texted: the send path checks each text."},
      footer = {"", "Example:", "  webhookd campaign load --name spring-sale --message \"20% off this week. Reply YES"
          + " for details, STOP to opt out\" --follow-up \"Great! Here are the details: ...\" --window 72h recipients.csv"})
  static final class Load extends StoreCommand {

    @Option(names = "--name", required = true, description = "The campaign's name, unique.")
    String name;

    @Option(names = "--message", required = true, description = "The text sent to every recipient.")
    String message;

    @Option(names = "--follow-up", description = "Sent once to a recipient who replies with interest.")
    String followUp;

    @Option(names = "--window", defaultValue = "72h",
        description = "How long after the text a reply counts as a response (default: ${DEFAULT-VALUE}).")
    String window;

    @Option(names = "--from", description = "The line to send from (a PN... id or a number); default: the"
        + " configured openphone.from-number.")
    String from;

    @Parameters(paramLabel = "FILE.csv", description = "Recipients, one per row.")
    Path file;

    private Duration responseWindow;

    @Override
    void validate() {
      try {
        responseWindow = Durations.parse(window);
      } catch (IllegalArgumentException e) {
        throw usage("--window: " + e.getMessage());
      }
      if (message.isBlank()) {
        throw usage("--message must not be empty");
      }
    }

    @Override
    int run(InboxStore store) throws Exception {
      String line = from != null ? from : settings.api().fromNumber();
      CampaignLoader.Outcome outcome;
      try (Reader csv = Files.newBufferedReader(file)) {
        outcome = new CampaignLoader(store, new PhoneNumbers(settings.crm().defaultRegion()))
            .load(name, message, followUp, responseWindow.toMillis(), line, csv).await();
      } catch (NoSuchFileException e) {
        err().println("webhookd: " + file + " does not exist");
        return ExitCode.SOFTWARE;
      }
      outcome.rejected().forEach(problem -> err().println("skipped " + problem));
      out().println("campaign " + outcome.campaign().name() + " (id " + outcome.campaign().id() + "): "
          + outcome.added() + " recipients queued, " + outcome.alreadyPresent() + " already in it, "
          + outcome.rejected().size() + " rows skipped");
      return ExitCode.OK;
    }
  }
}
