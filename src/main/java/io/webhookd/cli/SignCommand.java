package io.webhookd.cli;

import io.vertx.core.json.JsonObject;
import io.webhookd.ingest.WebhookSigner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code webhookd sign}: the signature headers a sender would put on a body. */
@Command(
    name = "sign",
    mixinStandardHelpOptions = true,
    description = {"Print the signature headers for a body read from stdin (exactly its bytes: mind a trailing"
        + " newline), one 'Name: value' per line, as the sender would sign it in the given scheme.",
        "The service accepts them when the secret is one of its openphone.secrets and the timestamp is"
            + " within openphone.timestamp-tolerance of its clock."},
    footer = {"", "Example (the Standard Webhooks test vector):",
        "  printf '%s' '{\"test\": 2432232314}' | webhookd sign --scheme standard \\",
        "      --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \\",
        "      --id msg_p5jXN8AQM9LWM0D4loKWxJek --timestamp 1614265330",
        "  webhookd sign --scheme openphone --secret \"$SECRET\" < body.json"})
final class SignCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--scheme", paramLabel = "SCHEME", required = true,
      description = "openphone (openphone-signature), standard (Standard Webhooks: webhook-id, webhook-timestamp,"
          + " webhook-signature) or seed (x-openphone-signature, x-openphone-timestamp).")
  WebhookSigner.Scheme scheme;

  @Option(names = "--secret", paramLabel = "SECRET", required = true,
      description = "The signing secret: base64 for openphone; whsec_... or base64 for standard; any text for seed.")
  String secret;

  @Option(names = "--id", paramLabel = "ID", description = "The webhook-id (standard only; default: a fresh msg_... id).")
  String id;

  @Option(names = "--timestamp", paramLabel = "T",
      description = "The signed time: as the scheme writes it (unix seconds for standard and seed, unix"
          + " milliseconds for openphone) or an ISO-8601 instant (default: now).")
  String timestamp;

  @Option(names = "--file", paramLabel = "PATH", description = "Read the body from this file instead of stdin.")
  Path file;

  @Option(names = "--json", description = "Print the headers as a JSON object.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    Instant at = timestamp == null ? Instant.now() : parseTimestamp(timestamp, scheme, spec);
    byte[] body = file != null ? Files.readAllBytes(file) : readStdin();
    Map<String, String> headers;
    try {
      headers = WebhookSigner.sign(scheme, secret, body, id, at);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--secret: " + e.getMessage());
    }
    if (json) {
      JsonObject object = new JsonObject();
      headers.forEach(object::put);
      Output.json(spec.commandLine().getOut(), object);
    } else {
      headers.forEach((name, value) -> spec.commandLine().getOut().println(name + ": " + value));
    }
    spec.commandLine().getOut().flush();
    return ExitCode.OK;
  }

  /** Digits in the scheme's own unit, or an ISO-8601 instant. */
  static Instant parseTimestamp(String text, WebhookSigner.Scheme scheme, CommandSpec spec) {
    String value = text.trim();
    try {
      if (!value.isEmpty() && value.length() <= 18 && value.chars().allMatch(Character::isDigit)) {
        long n = Long.parseLong(value);
        return scheme.millisecondTimestamps() ? Instant.ofEpochMilli(n) : Instant.ofEpochSecond(n);
      }
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new ParameterException(spec.commandLine(), "--timestamp: '" + text + "' is neither unix "
          + (scheme.millisecondTimestamps() ? "milliseconds" : "seconds") + " nor an ISO-8601 instant");
    }
  }

  private static byte[] readStdin() throws IOException {
    InputStream in = System.in;
    return in.readAllBytes();
  }
}
