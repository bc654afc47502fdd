package io.webhookd.ingest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.webhookd.config.InvalidSettingException;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.web.FileChangeWatcher;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotating secrets without a restart: when the secrets file changes, the verifier takes the new set
 * (the settings' own secrets plus the file's). A file that cannot be read keeps the set in use.
 */
public final class SecretsReloader {

  private static final Logger LOG = LoggerFactory.getLogger(SecretsReloader.class);
  private static final long CHECK_EVERY_MILLIS = 2_000;

  private final Settings.OpenPhone settings;
  private final SignatureVerifier verifier;
  private FileChangeWatcher watcher;

  public SecretsReloader(Settings.OpenPhone settings, SignatureVerifier verifier) {
    this.settings = settings;
    this.verifier = verifier;
  }

  public Future<Void> watch(Vertx vertx) {
    if (settings.secretsFile().isEmpty()) {
      return Future.succeededFuture();
    }
    watcher = new FileChangeWatcher(vertx, List.of(settings.secretsFile()), () -> reload(vertx));
    return watcher.start(CHECK_EVERY_MILLIS);
  }

  public void stop() {
    if (watcher != null) {
      watcher.stop();
    }
  }

  private void reload(Vertx vertx) {
    vertx.executeBlocking(() -> SettingsLoader.readSecretsFile(Path.of(settings.secretsFile())))
        .onSuccess(fileSecrets -> {
          List<String> secrets = settings.secretsWith(fileSecrets);
          verifier.updateSecrets(secrets);
          LOG.info("signing secrets reloaded from {}: {} in use", settings.secretsFile(), secrets.size());
        })
        .onFailure(e -> LOG.error("signing secrets not reloaded, keeping those in use: {}",
            e instanceof InvalidSettingException ? e.getMessage() : e.toString()));
  }
}
