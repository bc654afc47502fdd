package io.webhookd.ingest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.webhookd.config.Settings;
import io.webhookd.web.FileChangeWatcher;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener's PEM certificate and key. When the files change (a renewal), every listener
 * instance switches to them; connections already open keep their session, none is dropped.
 */
public final class TlsCertificates {

  private static final Logger LOG = LoggerFactory.getLogger(TlsCertificates.class);
  private static final long CHECK_EVERY_MILLIS = 5_000;

  private final Settings.Http settings;
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private FileChangeWatcher watcher;

  public TlsCertificates(Settings.Http settings) {
    this.settings = settings;
  }

  public boolean enabled() {
    return settings.tls();
  }

  public PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setCertPath(settings.tlsCertFile()).setKeyPath(settings.tlsKeyFile());
  }

  public void register(HttpServer server) {
    servers.add(server);
  }

  public void unregister(HttpServer server) {
    servers.remove(server);
  }

  public Future<Void> watch(Vertx vertx) {
    if (!enabled()) {
      return Future.succeededFuture();
    }
    watcher = new FileChangeWatcher(vertx, List.of(settings.tlsCertFile(), settings.tlsKeyFile()), this::reload);
    return watcher.start(CHECK_EVERY_MILLIS);
  }

  public void stop() {
    if (watcher != null) {
      watcher.stop();
    }
  }

  /** Forced: the paths are the same, the contents are new. */
  Future<Void> reload() {
    List<Future<Boolean>> updates = servers.stream()
        .map(server -> server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert()), true))
        .toList();
    return Future.all(updates)
        .onSuccess(v -> LOG.info("TLS certificate reloaded from {}", settings.tlsCertFile()))
        .onFailure(e -> LOG.error("TLS certificate could not be reloaded, keeping the previous one: {}", e.getMessage()))
        .mapEmpty();
  }
}
