package io.webhookd.cli;

import io.webhookd.ingest.WebhookSigner;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code webhookd send}: a signed test delivery, like a provider's "send test event" button. */
@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    description = {"Send a correctly signed webhook to URL: a built-in sample of --type (a fresh event id,"
        + " created now) or the body of --file, signed now. Print the HTTP status and the answer body.",
        "Exit 0 on a 2xx answer, 1 otherwise."},
    footer = {"", "Example:",
        "  URL=http://127.0.0.1:8080/webhooks/openphone",
        "  webhookd send --url \"$URL\" --secret \"$SECRET\" --type call.completed",
        "  webhookd send --url \"$URL\" --secret \"$SECRET\" --scheme seed --file body.json"})
final class SendCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--url", paramLabel = "URL", required = true, description = "Where to POST, e.g. http://127.0.0.1:8080/webhooks/openphone.")
  URI url;

  @Option(names = "--type", paramLabel = "TYPE",
      description = "The sample event's type (default: " + SampleEvents.DEFAULT_TYPE + "); one of: ${COMPLETION-CANDIDATES}.",
      completionCandidates = SampleTypes.class)
  String type;

  @Option(names = "--file", paramLabel = "PATH", description = "Send this body (exactly its bytes) instead of a sample.")
  Path file;

  @Option(names = "--secret", paramLabel = "SECRET", required = true,
      description = "The signing secret: base64 for openphone; whsec_... or base64 for standard; any text for seed.")
  String secret;

  @Option(names = "--scheme", paramLabel = "SCHEME", defaultValue = "openphone",
      description = "openphone, standard or seed (default: ${DEFAULT-VALUE}).")
  WebhookSigner.Scheme scheme;

  @Option(names = "--id", paramLabel = "ID", description = "The webhook-id (standard only; default: a fresh msg_... id).")
  String id;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "15",
      description = "How long to wait for the answer (default: ${DEFAULT-VALUE} s).")
  int timeoutSeconds;

  /** The types samples exist for, for the help text. */
  static final class SampleTypes implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return SampleEvents.types().iterator();
    }
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (type != null && file != null) {
      throw usage("give --type or --file, not both");
    }
    if (!"http".equalsIgnoreCase(url.getScheme()) && !"https".equalsIgnoreCase(url.getScheme())) {
      throw usage("--url must be an http:// or https:// URL");
    }
    if (timeoutSeconds < 1) {
      throw usage("--timeout must be at least 1 second");
    }
    Instant now = Instant.now();
    byte[] body;
    if (file != null) {
      body = Files.readAllBytes(file);
    } else {
      try {
        body = SampleEvents.body(type == null ? SampleEvents.DEFAULT_TYPE : type, scheme, now);
      } catch (IllegalArgumentException e) {
        throw usage("--type: " + e.getMessage());
      }
    }
    Map<String, String> headers;
    try {
      headers = WebhookSigner.sign(scheme, secret, body, id, now);
    } catch (IllegalArgumentException e) {
      throw usage("--secret: " + e.getMessage());
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(url)
        .timeout(Duration.ofSeconds(timeoutSeconds))
        .header("Content-Type", "application/json")
        .header("User-Agent", "webhookd-send")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(request::header);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    err.println("sending " + (file != null ? file.toString() : (type == null ? SampleEvents.DEFAULT_TYPE : type)
        + " sample") + " (" + body.length + " bytes) signed with " + scheme
        + (headers.containsKey("webhook-id") ? ", webhook-id " + headers.get("webhook-id") : "") + " to " + url);
    HttpResponse<String> response;
    try {
      response = HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(Math.min(timeoutSeconds, 10)))
          .build()
          .send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      err.println("webhookd: " + url + " did not answer: " + StoreCommand.describe(e));
      err.flush();
      return ExitCode.SOFTWARE;
    }
    out.println("HTTP " + response.statusCode());
    out.println(response.body());
    out.flush();
    err.flush();
    return response.statusCode() / 100 == 2 ? ExitCode.OK : ExitCode.SOFTWARE;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
