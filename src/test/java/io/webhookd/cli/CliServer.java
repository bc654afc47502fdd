package io.webhookd.cli;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.webhookd.config.Settings;
import io.webhookd.event.InboxEvent;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.process.EventHandler;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.server.WebhookdServer;
import io.webhookd.store.Tx;
import io.webhookd.testing.InProcessServer;
import io.webhookd.testing.TestSigner;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole service running in this JVM ({@link WebhookdServer}) on the store a CLI test's config
 * file names, with counting handlers, free ports, a short poll interval and a fresh signing secret:
 * the server an operator's command runs next to.
 */
final class CliServer implements AutoCloseable {

  /** A base64 secret, which every scheme can use. */
  static final String SECRET = TestSigner.newOpenPhoneSecret();

  private final Settings settings;
  private final WebhookdServer server;

  private CliServer(Settings settings, WebhookdServer server) {
    this.settings = settings;
    this.server = server;
  }

  /** Starts the service on {@code config}'s store with {@link InProcessServer#defaults()} on top. */
  static CliServer start(Path config, HandlerRegistry handlers) throws Exception {
    Map<String, String> env = new HashMap<>(InProcessServer.defaults());
    env.put("WEBHOOKD_OPENPHONE_SECRETS", SECRET);
    env.put("WEBHOOKD_PROCESS_INSTANCE_ID", "cli-test-server-" + UUID.randomUUID().toString().substring(0, 8));
    InProcessServer.Started started = InProcessServer.startOnFreePorts(config, env, handlers);
    return new CliServer(started.settings(), started.server());
  }

  URI webhookUri() {
    return URI.create("http://127.0.0.1:" + settings.http().port() + IngestVerticle.PATH);
  }

  Settings settings() {
    return settings;
  }

  @Override
  public void close() {
    server.stop();
  }

  /** Succeeds for every event and counts its calls per event id. */
  static final class Counting implements EventHandler {
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    @Override
    public Future<JsonObject> handle(InboxEvent event, JsonObject envelope, Tx tx) {
      calls.computeIfAbsent(event.event().eventId(), id -> new AtomicInteger()).incrementAndGet();
      return Future.succeededFuture(new JsonObject().put("handled", event.event().eventId()));
    }

    int calls(String eventId) {
      AtomicInteger n = calls.get(eventId);
      return n == null ? 0 : n.get();
    }

    /** This handler for every type a sample exists for. */
    HandlerRegistry registry() {
      Set<String> types = SampleEvents.types();
      return new HandlerRegistry().register(types, this);
    }
  }
}
