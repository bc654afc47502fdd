package io.webhookd.server;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.webhookd.config.Settings;
import io.webhookd.dedup.DedupGuard;
import io.webhookd.dedup.LocalDedupTier;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.ingest.SignatureVerifier;
import io.webhookd.process.EventDispatcher;
import io.webhookd.process.PendingRecovery;
import io.webhookd.process.ProcessingVerticle;
import io.webhookd.store.InboxStore;
import io.webhookd.store.sqlite.SqliteInboxStore;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the service together and takes it down in order: the listener first (draining requests
 * in flight and their commits), then the workers, then the store, then Vert.x.
 */
public final class WebhookdServer {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookdServer.class);

  private final Vertx vertx;
  private final InboxStore store;
  private final String ingestDeployment;
  private final String processingDeployment;

  private WebhookdServer(Vertx vertx, InboxStore store, String ingestDeployment, String processingDeployment) {
    this.vertx = vertx;
    this.store = store;
    this.ingestDeployment = ingestDeployment;
    this.processingDeployment = processingDeployment;
  }

  /** Starts everything; blocking, so call it from {@code main}, never from an event loop. */
  public static WebhookdServer start(Settings settings) throws Exception {
    Vertx vertx = Vertx.builder().build();
    InboxStore store = null;
    try {
      store = SqliteInboxStore.open(settings.dataDir(), settings.store());
      EventDispatcher.registerCodec(vertx);
      EventDispatcher dispatcher = new EventDispatcher(vertx, 60_000);
      if (settings.openphone().secrets().isEmpty()) {
        LOG.warn("no OpenPhone signing secret is configured (WEBHOOKD_OPENPHONE_SECRETS): every webhook"
            + " will be refused with 401");
      }
      SignatureVerifier verifier = new SignatureVerifier(
          settings.openphone().secrets(), settings.openphone().timestampTolerance(), Clock.systemUTC());
      DedupGuard dedup = new DedupGuard(List.of(
          new LocalDedupTier(settings.dedup().cacheSize(), settings.dedup().ttl())));

      long lastIdBeforeStart = store.lastId().await();
      InboxStore finalStore = store;
      String processing = vertx.deployVerticle(() -> new ProcessingVerticle(finalStore),
          new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
              .setInstances(settings.processing().workers())).await();
      int httpInstances = settings.http().instances() > 0
          ? settings.http().instances() : Runtime.getRuntime().availableProcessors();
      String ingest = vertx.deployVerticle(
          () -> new IngestVerticle(settings.http(), verifier, dedup, finalStore, dispatcher),
          new DeploymentOptions().setInstances(httpInstances)).await();
      LOG.info("webhookd listening on http://{}:{}{} ({} listeners, {} workers)", settings.http().host(),
          settings.http().port(), IngestVerticle.PATH, httpInstances, settings.processing().workers());

      new PendingRecovery(store, dispatcher).run(lastIdBeforeStart)
          .onFailure(e -> LOG.error("recovering unfinished events failed; they are retried at the next start", e));
      return new WebhookdServer(vertx, store, ingest, processing);
    } catch (Exception | Error e) {
      if (store != null) {
        store.close().await();
      }
      vertx.close().await();
      throw e;
    }
  }

  /** Graceful stop; blocking. */
  public void stop() {
    LOG.info("stopping: draining requests in flight");
    vertx.undeploy(ingestDeployment).await();
    vertx.undeploy(processingDeployment).await();
    store.close().await();
    vertx.close().await();
    LOG.info("stopped");
  }
}
