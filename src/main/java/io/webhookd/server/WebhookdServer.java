package io.webhookd.server;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.webhookd.config.Settings;
import io.webhookd.crm.CrmHandlers;
import io.webhookd.crm.OpenPhoneClient;
import io.webhookd.crm.OutboundSender;
import io.webhookd.dedup.DedupGuard;
import io.webhookd.dedup.DedupTier;
import io.webhookd.dedup.LocalDedupTier;
import io.webhookd.dedup.RedisDedupTier;
import io.webhookd.event.CriticalEvents;
import io.webhookd.ingest.IngestContext;
import io.webhookd.ingest.IngestVerticle;
import io.webhookd.ingest.RequestGate;
import io.webhookd.ingest.SecretsReloader;
import io.webhookd.ingest.SignatureVerifier;
import io.webhookd.ingest.TlsCertificates;
import io.webhookd.observe.InboxStats;
import io.webhookd.observe.ManagementVerticle;
import io.webhookd.observe.Metrics;
import io.webhookd.observe.ProcessingOutcomes;
import io.webhookd.observe.Readiness;
import io.webhookd.observe.ReadinessChecks;
import io.webhookd.observe.StoreBatchMetrics;
import io.webhookd.process.DeadLetterAlerts;
import io.webhookd.process.EventProcessor;
import io.webhookd.process.EventDispatcher;
import io.webhookd.process.FaultInjector;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.process.ProcessingVerticle;
import io.webhookd.process.ProcessingWatch;
import io.webhookd.process.RetryPolicy;
import io.webhookd.process.WorkScheduler;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxStores;
import io.webhookd.store.postgres.PgInboxStore;
import io.webhookd.store.sqlite.SqliteInboxStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the service together and takes it down in order: the listener first (draining requests
 * in flight and their commits), then the scheduler and the workers, then the store, then Vert.x.
 */
public final class WebhookdServer {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookdServer.class);
  private static final long STATS_EVERY_MILLIS = 5_000;

  private final Vertx vertx;
  private final InboxStore store;
  private final Redis redis;
  private final List<String> deploymentsInStopOrder;

  private WebhookdServer(Vertx vertx, InboxStore store, Redis redis, List<String> deploymentsInStopOrder) {
    this.vertx = vertx;
    this.store = store;
    this.redis = redis;
    this.deploymentsInStopOrder = deploymentsInStopOrder;
  }

  /** Starts everything; blocking, so call it from {@code main}, never from an event loop. */
  public static WebhookdServer start(Settings settings) throws Exception {
    return start(settings, CrmHandlers.registry(settings));
  }

  /** As {@link #start(Settings)}, with the given handlers. */
  public static WebhookdServer start(Settings settings, HandlerRegistry handlers) throws Exception {
    Metrics metrics = new Metrics();
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(metrics.registry()))
        .build();
    if (!vertx.isNativeTransportEnabled()) {
      // Works the same, at some CPU per request more (the jar carries it for Linux on x86-64 and aarch64).
      LOG.info("event loops on Java NIO: the native transport is not available here ({})",
          String.valueOf(vertx.unavailableNativeTransportCause()));
    }
    InboxStore store = null;
    Redis redis = null;
    try {
      Settings.Processing processing = settings.processing();
      store = InboxStores.openForServing(vertx, settings, processing.instanceId());
      InboxStore finalStore = store;
      if (store instanceof SqliteInboxStore sqlite) {
        metrics.gauge("webhook.sqlite.wal.bytes", "SQLite: bytes written to the WAL since it last started over",
            sqlite, SqliteInboxStore::walBytes);
        sqlite.reportTimings(StoreBatchMetrics.sqlite(metrics.registry()));
      } else if (store instanceof PgInboxStore pg) {
        pg.reportTimings(StoreBatchMetrics.postgres(metrics.registry()));
      }

      List<DedupTier> tiers = new ArrayList<>();
      tiers.add(new LocalDedupTier(settings.dedup().cacheSize(), settings.dedup().ttl()));
      RedisDedupTier redisTier = null;
      if (!settings.dedup().redisUrl().isEmpty()) {
        redis = Redis.createClient(vertx, new RedisOptions()
            .setConnectionString(settings.dedup().redisUrl())
            .setMaxPoolSize(16)
            .setMaxPoolWaiting(2048));
        redisTier = new RedisDedupTier(redis, settings.dedup().ttl(), settings.dedup().redisTimeout());
        // Opens the first connection before traffic arrives; a failure is logged by the tier and
        // ingest goes on without it.
        redisTier.ping().otherwiseEmpty().await();
        redisTier.watch(vertx);
        tiers.add(redisTier);
      }
      if (settings.openphone().secrets().isEmpty()) {
        LOG.warn("no OpenPhone signing secret is configured (WEBHOOKD_OPENPHONE_SECRETS): every webhook"
            + " will be refused with 401");
      }

      EventDispatcher.registerCodec(vertx);
      EventDispatcher dispatcher = new EventDispatcher(vertx, processing.lease().toMillis());
      ProcessingWatch watch = new ProcessingWatch();
      ProcessingOutcomes outcomes = new ProcessingOutcomes(5);
      RetryPolicy retryPolicy = new RetryPolicy(processing.retryBase(), processing.retryCap(), processing.maxRetries());
      DeadLetterAlerts alerts = new DeadLetterAlerts(vertx, processing.alertWebhookUrl(), metrics);
      FaultInjector faults = FaultInjector.of(processing.faultRate());
      EventProcessor processor = new EventProcessor(handlers, processing.instanceId(), retryPolicy, faults, alerts,
          metrics, outcomes, watch);
      String workers = vertx.deployVerticle(() -> new ProcessingVerticle(finalStore, processor),
          new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setInstances(processing.workers())).await();
      WorkScheduler scheduler = new WorkScheduler(store, dispatcher, processing, processing.instanceId(),
          processing.firstAttemptOnArrival() ? processor : null);
      String scheduling = vertx.deployVerticle(scheduler).await();

      OpenPhoneClient api = new OpenPhoneClient(vertx, settings.api());
      String outbound = vertx.deployVerticle(new OutboundSender(store, api, retryPolicy,
          settings.api().sendRatePerSecond(), processing.instanceId())).await();

      InboxStats stats = new InboxStats(store, metrics);
      stats.start(vertx, STATS_EVERY_MILLIS);
      Readiness readiness = new Readiness(
          ReadinessChecks.of(settings.management(), store, redisTier, stats, outcomes));
      String management = vertx.deployVerticle(new ManagementVerticle(
          settings.management().host(), settings.management().port(), readiness, metrics)).await();

      SignatureVerifier verifier = new SignatureVerifier(settings.openphone().secrets(),
          settings.openphone().timestampTolerance(), Clock.systemUTC());
      new SecretsReloader(settings.openphone(), verifier).watch(vertx).await();
      TlsCertificates tls = new TlsCertificates(settings.http());
      tls.watch(vertx).await();
      IngestContext ingest = new IngestContext(verifier, new DedupGuard(tiers), store, scheduler,
          new CriticalEvents(settings.crm().optOutKeywords()), watch, processing.criticalBudget(), metrics,
          new RequestGate(settings.http(), metrics), tls);
      int httpInstances = settings.http().instances() > 0
          ? settings.http().instances() : Runtime.getRuntime().availableProcessors();
      String listener = vertx.deployVerticle(() -> new IngestVerticle(settings.http(), ingest),
          new DeploymentOptions().setInstances(httpInstances)).await();
      LOG.info("webhookd {} listening on {}://{}:{}{} ({} listeners on {}, {} workers; management on {}:{})",
          processing.instanceId(), tls.enabled() ? "https" : "http", settings.http().host(), settings.http().port(), IngestVerticle.PATH,
          httpInstances, vertx.isNativeTransportEnabled() ? "the native transport" : "Java NIO",
          processing.workers(), settings.management().host(), settings.management().port());
      return new WebhookdServer(vertx, store, redis,
          List.of(listener, scheduling, workers, outbound, management));
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
    for (String deployment : deploymentsInStopOrder) {
      vertx.undeploy(deployment).await();
    }
    store.close().await();
    if (redis != null) {
      redis.close();
    }
    vertx.close().await();
    LOG.info("stopped");
  }
}
