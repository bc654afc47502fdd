package io.webhookd.observe;

import static io.webhookd.observe.MetricsEndToEndTest.expect;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.crm.CrmHandlers;
import io.webhookd.observe.ObserveHandlers.FailsOnce;
import io.webhookd.observe.ObserveHandlers.Permanent;
import io.webhookd.process.EventHandler;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The service's logs as {@code logback.xml} writes them: every line the running service logs (in
 * this JVM) is encoded with the JSON encoder that file configures, and the lines are checked: one
 * JSON object per line with time, level, logger and message; a failed processing attempt carries
 * the event's id, type, attempt and duration as fields; and no line at INFO or above carries a
 * text's content or a full phone number of the events sent, though the real CRM handlers run (and
 * send confirmations through an API that refuses them) next to handlers that fail.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StructuredLogTest {

  @TempDir
  Path dir;

  private ObservedServer server;
  private HttpServer api;
  private LoggerContext jsonContext;
  private LoggerContext textContext;
  private Capture capture;

  /** One event the root logger let through, with its line as logback.xml's encoder wrote it. */
  private record Logged(ILoggingEvent event, String line) {
  }

  /**
   * Every event the root logger lets through, with its line. Event and line are kept as one entry:
   * the service keeps logging while the test reads, and two lists appended one after the other could
   * be read with one entry more in the first.
   */
  private static final class Capture extends AppenderBase<ILoggingEvent> {
    private final Encoder<ILoggingEvent> encoder;
    private final List<Logged> logged = new CopyOnWriteArrayList<>();

    Capture(Encoder<ILoggingEvent> encoder) {
      this.encoder = encoder;
      setName("observe-capture");
    }

    @Override
    protected void append(ILoggingEvent event) {
      event.prepareForDeferredProcessing();
      logged.add(new Logged(event, new String(encoder.encode(event), StandardCharsets.UTF_8)));
    }

    /** What was logged so far, a snapshot that later lines do not change. */
    List<Logged> snapshot() {
      return List.copyOf(logged);
    }

    /** Whether a line about {@code eventId} whose message starts with {@code message} was logged. */
    boolean has(String eventId, String message) {
      return logged.stream().map(Logged::event).anyMatch(e -> e.getFormattedMessage().startsWith(message)
          && e.getKeyValuePairs() != null
          && e.getKeyValuePairs().stream().anyMatch(kv -> "event_id".equals(kv.key) && eventId.equals(kv.value)));
    }
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (api != null) {
      api.stop(0);
    }
    if (capture != null) {
      root().detachAppender(capture);
      capture.stop();
    }
    if (jsonContext != null) {
      jsonContext.stop();
    }
    if (textContext != null) {
      textContext.stop();
    }
  }

  @Test
  void failuresAreJsonLinesWithTheEventsFieldsAndNoTextOrNumberIsLoggedAtInfo() throws Exception {
    jsonContext = configured("/logback.xml");
    capture = new Capture(encoderOf(jsonContext, "json"));
    capture.setContext(root().getLoggerContext());
    capture.start();
    root().addAppender(capture);

    // An OpenPhone API that refuses every text: the confirmation of the opt-out below fails for good.
    AtomicInteger apiCalls = new AtomicInteger();
    api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    api.createContext("/", exchange -> {
      apiCalls.incrementAndGet();
      exchange.getRequestBody().readAllBytes();
      byte[] answer = "{\"message\":\"invalid request\"}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(400, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    api.start();

    Map<String, String> env = new HashMap<>();
    env.put("WEBHOOKD_PROCESS_RETRY_BASE", "10ms");
    env.put("WEBHOOKD_PROCESS_RETRY_CAP", "50ms");
    env.put("WEBHOOKD_PROCESS_CRITICAL_BUDGET", "8s");
    env.put("WEBHOOKD_OPENPHONE_API_KEY", "test-key-" + UUID.randomUUID());
    env.put("WEBHOOKD_OPENPHONE_API_BASE_URL", "http://127.0.0.1:" + api.getAddress().getPort());
    FailsOnce failsOnce = new FailsOnce();
    Permanent permanent = new Permanent();
    server = ObservedServer.start(dir, env, crmHandlersExcept(env, Map.of(
        "message.delivered", failsOnce,
        "call.completed", permanent)));

    String inboundText = "Observe inbound text " + UUID.randomUUID();
    String deliveredText = "Observe delivered text " + UUID.randomUUID();
    String inbound = ObserveBodies.newId("in");
    String optOut = ObserveBodies.newId("stop");
    String delivered = ObserveBodies.newId("out");
    String call = ObserveBodies.newId("call");
    String contact = ObserveBodies.newId("contact");
    expect(server.post(ObserveBodies.receivedWithText(inbound, inboundText)), 200, "processed");
    expect(server.post(ObserveBodies.bytes(Fixtures.json(Fixtures.V2026_MESSAGE_RECEIVED).put("id", optOut))),
        200, "processed");
    expect(server.post(ObserveBodies.deliveredWithText(delivered, deliveredText)), 200, "queued");
    expect(server.post(ObserveBodies.callCompleted(call)), 200, "queued");
    expect(server.post(ObserveBodies.contactUpdated(contact)), 200, "queued");
    byte[] signedElsewhere = ObserveBodies.receivedWithText(ObserveBodies.newId("forged"), inboundText);
    expect(server.postSignedWith(TestSigner.newOpenPhoneSecret(), signedElsewhere, System.currentTimeMillis()),
        401, "invalid_signature");
    expect(server.post(("{\"text\": \"" + inboundText + "\", ").getBytes(StandardCharsets.UTF_8)), 400,
        "invalid_json");

    Poll.until("every event finished", ObservedServer.WAIT,
        () -> server.server().query("SELECT event_id, status FROM inbox_events"),
        rows -> rows.size() == 5 && rows.stream().allMatch(row -> List.of("processed", "dead", "ignored")
            .contains(row.get("status"))));
    Poll.until("the refused confirmation logged", ObservedServer.WAIT,
        () -> capture.snapshot().stream().filter(l -> l.event().getLoggerName().endsWith("OutboundSender")
            && l.event().getLevel().isGreaterOrEqual(Level.WARN)).count(), n -> n > 0);
    assertThat(apiCalls.get()).as("texts the API was asked to send").isPositive();
    // The worker logs a failed attempt only after its transaction committed: the new status can be
    // read (and, on a busy machine, the next attempt can even finish) before the line is written.
    // So wait for the two lines checked below; whether they are right is asserted on a snapshot.
    Poll.until("the retry of " + delivered + " and the dead letter " + call + " logged", ObservedServer.WAIT,
        () -> capture.has(delivered, "processing failed, retrying")
            && capture.has(call, "event is in the dead-letter queue"), logged -> logged);
    List<Logged> logged = capture.snapshot();

    // ---- one JSON object per line ----------------------------------------------------------------
    List<JsonObject> json = new ArrayList<>();
    for (Logged entry : logged) {
      String line = entry.line();
      assertThat(line).as("a log line").endsWith("\n");
      assertThat(line.substring(0, line.length() - 1)).as("one line: %s", line).doesNotContain("\n");
      JsonObject object;
      try {
        object = new JsonObject(line);
      } catch (DecodeException e) {
        throw new AssertionError("not a JSON object: " + line, e);
      }
      assertThat(object.fieldNames()).as("fields of %s", line).contains("time", "level", "logger", "message");
      json.add(object);
    }

    // ---- the failed attempts carry the event's fields ---------------------------------------------
    JsonObject retried = only(json, delivered, "processing failed, retrying");
    assertThat(retried.getString("level")).isEqualTo("WARN");
    assertThat(retried.getString("logger")).endsWith("EventProcessor");
    assertThat(retried.getString("type")).isEqualTo("message.delivered");
    assertThat(retried.getValue("attempt")).isEqualTo(1);
    assertThat(retried.getValue("duration_ms")).isInstanceOf(Number.class);
    assertThat(retried.getLong("duration_ms")).isBetween(0L, 60_000L);
    assertThat(retried.getString("time")).as("UTC, ISO 8601").endsWith("Z");
    assertThat(Instant.parse(retried.getString("time"))).isBetween(Instant.now().minusSeconds(120), Instant.now());

    JsonObject dead = only(json, call, "dead-letter queue");
    assertThat(dead.getString("level")).isEqualTo("WARN");
    assertThat(dead.getString("type")).isEqualTo("call.completed");
    assertThat(dead.getValue("attempt")).isEqualTo(1);
    assertThat(dead.getValue("duration_ms")).isInstanceOf(Number.class);
    assertThat(failsOnce.calls()).containsExactly(delivered + "#1", delivered + "#2");
    assertThat(permanent.calls()).containsExactly(call + "#1");

    // ---- nothing private at INFO and above --------------------------------------------------------
    List<String> forbidden = new ArrayList<>(List.of(inboundText, deliveredText));
    for (String number : List.of("+19876543210", "+15555555555", "+18005550100", "+18885550101", "+12566581234")) {
      forbidden.add(number.substring(1)); // with and without "+"
      forbidden.add(number.substring(2)); // national number
    }
    for (Logged entry : logged) {
      if (!entry.event().getLevel().isGreaterOrEqual(Level.INFO)) {
        continue;
      }
      for (String secret : forbidden) {
        assertThat(entry.line()).as("an INFO+ log line").doesNotContain(secret);
      }
    }
    assertThat(logged).as("the fake API key")
        .noneMatch(entry -> entry.line().contains(env.get("WEBHOOKD_OPENPHONE_API_KEY")));

    // ---- the same event as plain text (logback-text.xml, for a terminal) ---------------------------
    textContext = configured("/logback-text.xml");
    ILoggingEvent failure = logged.stream().map(Logged::event)
        .filter(e -> e.getFormattedMessage().startsWith("processing failed, retrying")).findFirst().orElseThrow();
    String text = new String(encoderOf(textContext, "text").encode(failure), StandardCharsets.UTF_8);
    assertThat(text).doesNotStartWith("{").contains(" WARN ").contains("processing failed, retrying")
        .contains("event_id=\"" + delivered + "\"").contains("type=\"message.delivered\"").contains("attempt=\"1\"")
        .contains("duration_ms=");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** A separate logging context configured from the given file of the main resources. */
  private static LoggerContext configured(String resource) throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(StructuredLogTest.class.getResource(resource));
    return context;
  }

  @SuppressWarnings("unchecked")
  private static Encoder<ILoggingEvent> encoderOf(LoggerContext context, String appender) {
    var found = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender(appender);
    assertThat(found).as("appender %s", appender).isInstanceOf(OutputStreamAppender.class);
    return ((OutputStreamAppender<ILoggingEvent>) found).getEncoder();
  }

  /** The one line about {@code eventId} whose message contains {@code message}. */
  private static JsonObject only(List<JsonObject> lines, String eventId, String message) {
    List<JsonObject> matching = lines.stream()
        .filter(line -> eventId.equals(line.getString("event_id")) && line.getString("message").contains(message))
        .toList();
    assertThat(matching).as("log lines of %s saying \"%s\"", eventId, message).hasSize(1);
    return matching.get(0);
  }

  /** The real CRM handlers (as serve runs them), with some types taken by test handlers. */
  private HandlerRegistry crmHandlersExcept(Map<String, String> env, Map<String, EventHandler> replaced)
      throws Exception {
    Path config = dir.resolve("crm-settings.yaml");
    Files.writeString(config, "");
    Map<String, String> all = new HashMap<>(InProcessServer.defaults());
    all.putAll(env);
    Settings settings = SettingsLoader.load(config, all);
    HandlerRegistry crm = CrmHandlers.registry(settings);
    HandlerRegistry registry = new HandlerRegistry();
    for (String type : crm.types()) {
      registry.register(type, replaced.containsKey(type) ? replaced.get(type) : crm.find(type).orElseThrow());
    }
    return registry;
  }
}
