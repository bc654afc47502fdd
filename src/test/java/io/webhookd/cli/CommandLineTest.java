package io.webhookd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command tree: every command answers --help with an example; usage errors exit 2. */
class CommandLineTest {

  /** The commands of the operator CLI, and serve. */
  private static final List<String> OPERATOR_COMMANDS =
      List.of("serve", "dlq", "events", "sign", "send", "migrate", "check-config");

  @Test
  void everyOperatorCommandIsRegistered() {
    CommandLine root = WebhookdCommand.commandLine();

    assertThat(root.getSubcommands().keySet())
        .contains("serve", "dlq", "events", "sign", "send", "migrate", "check-config", "help");
    assertThat(root.getSubcommands().get("dlq").getSubcommands().keySet())
        .containsExactly("list", "show", "replay", "discard");
    assertThat(root.getSubcommands().get("events").getSubcommands().keySet()).containsExactly("list", "show");
  }

  @Test
  void everyOperatorCommandAnswersHelpWithAnExampleOnStdout() {
    List<List<String>> paths = new ArrayList<>();
    collect(WebhookdCommand.commandLine(), new ArrayList<>(), paths);
    paths.removeIf(path -> !OPERATOR_COMMANDS.contains(path.get(0)));
    paths.add(List.of());
    assertThat(paths).hasSize(14);

    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      Cli.Result result = Cli.run(args.toArray(String[]::new));
      assertThat(result.exitCode()).as("%s", result).isZero();
      assertThat(result.out()).as("%s", result).startsWith("Usage: webhookd").contains("Example");
      assertThat(result.err()).isEmpty();
    }
  }

  @Test
  void aUsageErrorExitsWith2WithTheMessageAndUsageOnStderr() {
    for (String[] args : new String[][] {{"dlq"}, {"events"}, {"dlq", "list", "--bogus"},
        {"dlq", "show"}, {"dlq", "show", "abc"}, {"dlq", "list", "--limit", "0"}, {"events", "list", "--limit", "x"},
        {"sign", "--scheme", "seed"}, {"send", "--secret", "s"}, {"events", "show"}}) {
      Cli.Result result = Cli.run(args);
      assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
      assertThat(result.out()).as("%s", result).isEmpty();
      assertThat(result.err()).as("%s", result).contains("Usage: webhookd");
    }
  }

  @Test
  void anUnknownCommandExitsWith2WithSuggestions() {
    Cli.Result result = Cli.run("dlq-list");

    assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).contains("Unmatched argument");
  }

  private static void collect(CommandLine command, List<String> path, List<List<String>> into) {
    for (var entry : command.getSubcommands().entrySet()) {
      if (entry.getKey().equals("help")) {
        continue;
      }
      List<String> sub = new ArrayList<>(path);
      sub.add(entry.getKey());
      into.add(sub);
      collect(entry.getValue(), sub, into);
    }
  }
}
