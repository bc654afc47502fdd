package io.webhookd.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every setting of the service, loaded and checked once at start-up by {@link SettingsLoader}.
 */
public record Settings(
    Http http,
    Management management,
    Path dataDir,
    OpenPhone openphone,
    Store store,
    Postgres postgres,
    Dedup dedup,
    Processing processing,
    Crm crm,
    OpenPhoneApi api) {

  /**
   * The public webhook listener. {@code instances} 0 means one verticle per core. TLS is on when
   * both PEM files are set. With {@code httpsOnly}, a plain-HTTP webhook is refused unless it comes
   * from loopback or from a trusted proxy that says the client used HTTPS.
   */
  public record Http(String host, int port, int instances, long maxBodyBytes, Duration shutdownTimeout,
      String tlsCertFile, String tlsKeyFile, boolean httpsOnly, List<String> trustedProxies,
      int rateLimitPerIp, int rateLimitGlobal, int maxHeaderBytes, Duration idleTimeout,
      Duration requestTimeout, int maxConnections) {

    public boolean tls() {
      return !tlsCertFile.isEmpty() && !tlsKeyFile.isEmpty();
    }
  }

  /**
   * The management listener (metrics, health, readiness); loopback unless configured otherwise,
   * and when readiness turns degraded: a backlog above {@code queueDegradedAbove}, an event waiting
   * longer than {@code oldestPendingDegradedAfter}, or fewer than {@code successRateDegradedBelow}
   * percent of the last five minutes' processing attempts succeeding.
   */
  public record Management(String host, int port, long queueDegradedAbove, Duration oldestPendingDegradedAfter,
      int successRateDegradedBelow) {
  }

  /**
   * How OpenPhone webhooks are authenticated. Several secrets may be valid at once so that a secret
   * can be rotated without refusing deliveries signed with the old one.
   */
  public record OpenPhone(List<String> secrets, Duration timestampTolerance, List<String> inlineSecrets,
      String secretsFile) {

    /** The secrets from the settings, then those of the file as it reads now (for reloading). */
    public List<String> secretsWith(List<String> fileSecrets) {
      return List.copyOf(new LinkedHashSet<>(
          Stream.concat(inlineSecrets.stream(), fileSecrets.stream()).toList()));
    }

    @Override
    public String toString() {
      return "OpenPhone[secrets=" + secrets.size() + " configured, timestampTolerance="
          + timestampTolerance + ", secretsFile=" + (secretsFile.isEmpty() ? "none" : secretsFile) + "]";
    }
  }

  /**
   * The inbox store and its group commit. A commit slower than {@code commitTimeout} is answered
   * 503 (the sender retries; if the commit did land, the retry is a duplicate).
   */
  public record Store(SqliteSynchronous sqliteSynchronous, int batchSize, Duration batchDelay,
      int queueCapacity, Duration commitTimeout, int sqlitePageSize) {
  }

  /**
   * The shared PostgreSQL store; when {@code url} is empty the embedded SQLite store is used.
   * The URL may carry a password, so it is never printed. An operation other than an append that
   * takes longer than {@code operationTimeout} fails, and its connection is given up.
   */
  public record Postgres(String url, int poolSize, Duration operationTimeout) {
    public boolean enabled() {
      return !url.isEmpty();
    }

    @Override
    public String toString() {
      return "Postgres[" + (enabled() ? "configured" : "off") + ", poolSize=" + poolSize
          + ", operationTimeout=" + operationTimeout + "]";
    }
  }

  /**
   * The dedup guard's tiers: in-process Caffeine, then Redis when {@code redisUrl} is set.
   * A Redis answer slower than {@code redisTimeout} counts as "not known".
   */
  public record Dedup(long cacheSize, Duration ttl, String redisUrl, Duration redisTimeout) {
    @Override
    public String toString() {
      return "Dedup[cacheSize=" + cacheSize + ", ttl=" + ttl + ", redis="
          + (redisUrl.isEmpty() ? "off" : "configured") + ", redisTimeout=" + redisTimeout + "]";
    }
  }

  /**
   * Processing: worker verticles, and how this instance claims events from the store.
   *
   * @param instanceId  the owner name on this instance's leases
   * @param lease       how long a claim holds without renewal; another instance takes over after it
   * @param pollInterval how often the store is asked for due work when nothing wakes the scheduler
   * @param criticalBudget how long a critical event's request waits for its processing
   * @param retryBase     the first retry's delay; each next one doubles, up to {@code retryCap}
   * @param alertWebhookUrl where dead-lettered critical events are reported; empty for nowhere
   * @param faultRate     the fraction of processing attempts failed on purpose after the handler's
   *                      effects, to test retries and the dead-letter queue; 0 in production
   * @param firstAttemptOnArrival whether, where the store can, an arriving event is processed in the
   *                      commit that stores it
   */
  public record Processing(int workers, String instanceId, Duration lease, Duration pollInterval,
      int claimBatch, int maxInFlight, Duration criticalBudget, Duration retryBase, Duration retryCap,
      int maxRetries, String alertWebhookUrl, double faultRate, boolean firstAttemptOnArrival) {
    @Override
    public String toString() {
      return "Processing[workers=" + workers + ", instanceId=" + instanceId + ", lease=" + lease
          + ", pollInterval=" + pollInterval + ", claimBatch=" + claimBatch + ", maxInFlight=" + maxInFlight
          + ", criticalBudget=" + criticalBudget + ", retryBase=" + retryBase + ", retryCap=" + retryCap
          + ", maxRetries=" + maxRetries + ", alertWebhook=" + (alertWebhookUrl.isEmpty() ? "off" : "configured")
          + ", faultRate=" + faultRate + ", firstAttemptOnArrival=" + firstAttemptOnArrival + "]";
    }
  }

  /**
   * The CRM's rules: consent keywords (compared with the whole text, trimmed, any case), the texts
   * sent in answer, campaign reply classification, and the automation rules file.
   */
  public record Crm(String defaultRegion, List<String> optOutKeywords, List<String> optInKeywords,
      List<String> helpKeywords, String helpText, String optOutConfirmation, String optInConfirmation,
      List<String> interestedKeywords, List<String> notInterestedKeywords, Path automationFile) {
  }

  /**
   * The OpenPhone API, through which texts are sent. {@code fromNumber} is the line used when an
   * event names none. The key is never printed.
   */
  public record OpenPhoneApi(String baseUrl, String apiKey, Duration timeout, String fromNumber,
      double sendRatePerSecond) {
    @Override
    public String toString() {
      return "OpenPhoneApi[baseUrl=" + baseUrl + ", apiKey=" + (apiKey.isEmpty() ? "none" : "configured")
          + ", timeout=" + timeout + ", fromNumber=" + fromNumber + ", sendRatePerSecond=" + sendRatePerSecond + "]";
    }
  }

  /** Durability of SQLite commits; FULL syncs the WAL after every commit before it is answered. */
  public enum SqliteSynchronous { FULL, NORMAL }
}
