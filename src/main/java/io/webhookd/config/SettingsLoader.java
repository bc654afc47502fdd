package io.webhookd.config;

import io.webhookd.config.Settings.SqliteSynchronous;
import io.webhookd.web.CidrRange;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Loads {@link Settings}: built-in defaults, then the YAML file, then {@code WEBHOOKD_*}
 * environment variables. Anything wrong raises {@link InvalidSettingException} naming the setting.
 */
public final class SettingsLoader {

  /** The file used when neither {@code --config} nor {@code WEBHOOKD_CONFIG} names one. */
  public static final Path DEFAULT_FILE = Path.of("conf", "webhookd.yaml");

  static final Setting<String> HTTP_HOST = Setting.of("http.host", "0.0.0.0", ValueParsers::nonBlank);
  static final Setting<Integer> HTTP_PORT =
      Setting.of("http.port", "8080", t -> ValueParsers.integer(t, 0, 65535));
  static final Setting<Integer> HTTP_INSTANCES =
      Setting.of("http.instances", "0", t -> ValueParsers.integer(t, 0, 256));
  static final Setting<Long> HTTP_MAX_BODY_SIZE =
      Setting.of("http.max-body-size", "1MiB", t -> ValueParsers.bytes(t, 1024, 64L << 20));
  static final Setting<Duration> HTTP_SHUTDOWN_TIMEOUT = Setting.of("http.shutdown-timeout", "30s",
      t -> ValueParsers.duration(t, Duration.ZERO, Duration.ofMinutes(10)));
  static final Setting<String> HTTP_TLS_CERT_FILE = Setting.of("http.tls-cert-file", "", String::trim);
  static final Setting<String> HTTP_TLS_KEY_FILE = Setting.of("http.tls-key-file", "", String::trim);
  static final Setting<Boolean> HTTP_HTTPS_ONLY = Setting.of("http.https-only", "true", ValueParsers::bool);
  static final Setting<List<String>> HTTP_TRUSTED_PROXIES =
      Setting.of("http.trusted-proxies", "", SettingsLoader::networks);
  static final Setting<Integer> HTTP_RATE_LIMIT_PER_IP =
      Setting.of("http.rate-limit-per-ip", "5000", t -> ValueParsers.integer(t, 1, 10_000_000));
  static final Setting<Integer> HTTP_RATE_LIMIT_GLOBAL =
      Setting.of("http.rate-limit-global", "50000", t -> ValueParsers.integer(t, 1, 100_000_000));
  static final Setting<Integer> HTTP_MAX_HEADER_SIZE =
      Setting.of("http.max-header-size", "16KiB", t -> (int) ValueParsers.bytes(t, 1024, 1 << 20));
  static final Setting<Duration> HTTP_IDLE_TIMEOUT = Setting.of("http.idle-timeout", "60s",
      t -> ValueParsers.duration(t, Duration.ofSeconds(1), Duration.ofHours(1)));
  static final Setting<Duration> HTTP_REQUEST_TIMEOUT = Setting.of("http.request-timeout", "10s",
      t -> ValueParsers.duration(t, Duration.ofMillis(100), Duration.ofMinutes(5)));
  static final Setting<Integer> HTTP_MAX_CONNECTIONS =
      Setting.of("http.max-connections", "10000", t -> ValueParsers.integer(t, 1, 1_000_000));
  static final Setting<String> MANAGEMENT_HOST =
      Setting.of("management.host", "127.0.0.1", ValueParsers::nonBlank);
  static final Setting<Integer> MANAGEMENT_PORT =
      Setting.of("management.port", "8081", t -> ValueParsers.integer(t, 0, 65535));
  static final Setting<Long> MANAGEMENT_QUEUE_DEGRADED_ABOVE = Setting.of("management.queue-degraded-above",
      "1000", t -> (long) ValueParsers.integer(t, 0, Integer.MAX_VALUE));
  static final Setting<Duration> MANAGEMENT_OLDEST_PENDING_DEGRADED_AFTER = Setting.of(
      "management.oldest-pending-degraded-after", "5m",
      t -> ValueParsers.duration(t, Duration.ofSeconds(1), Duration.ofDays(7)));
  static final Setting<Integer> MANAGEMENT_SUCCESS_RATE_DEGRADED_BELOW = Setting.of(
      "management.success-rate-degraded-below", "50", t -> ValueParsers.integer(t, 0, 100));
  static final Setting<Path> DATA_DIR =
      Setting.of("data-dir", "./data", t -> Path.of(ValueParsers.nonBlank(t)));
  static final Setting<List<String>> OPENPHONE_SECRETS =
      Setting.secret("openphone.secrets", "", ValueParsers::list);
  static final Setting<String> OPENPHONE_SECRETS_FILE =
      Setting.of("openphone.secrets-file", "", String::trim);
  static final Setting<Duration> OPENPHONE_TIMESTAMP_TOLERANCE =
      Setting.of("openphone.timestamp-tolerance", "5m",
          t -> ValueParsers.duration(t, Duration.ofSeconds(1), Duration.ofHours(1)));
  static final Setting<SqliteSynchronous> STORE_SQLITE_SYNCHRONOUS = Setting.of(
      "store.sqlite.synchronous", "FULL", t -> ValueParsers.oneOf(t, SqliteSynchronous.class));
  static final Setting<Integer> STORE_SQLITE_PAGE_SIZE = Setting.of("store.sqlite.page-size", "2048",
      t -> ValueParsers.powerOfTwo(t, 512, 65_536));
  static final Setting<Integer> STORE_BATCH_SIZE =
      Setting.of("store.batch-size", "512", t -> ValueParsers.integer(t, 1, 100_000));
  static final Setting<Duration> STORE_BATCH_DELAY = Setting.of("store.batch-delay", "1ms",
      t -> ValueParsers.duration(t, Duration.ZERO, Duration.ofMillis(100)));
  static final Setting<Integer> STORE_QUEUE_CAPACITY =
      Setting.of("store.queue-capacity", "20000", t -> ValueParsers.integer(t, 1, 10_000_000));
  static final Setting<Duration> STORE_COMMIT_TIMEOUT = Setting.of("store.commit-timeout", "5s",
      t -> ValueParsers.duration(t, Duration.ofMillis(100), Duration.ofMinutes(1)));
  static final Setting<String> PG_URL = Setting.secret("pg.url", "",
      t -> ValueParsers.urlWithScheme(t, "postgresql://user[:password]@host:port/db", "postgresql", "postgres"));
  static final Setting<Integer> PG_POOL_SIZE =
      Setting.of("pg.pool-size", "8", t -> ValueParsers.integer(t, 1, 200));
  static final Setting<Duration> PG_OPERATION_TIMEOUT = Setting.of("pg.operation-timeout", "10s",
      t -> ValueParsers.duration(t, Duration.ofMillis(100), Duration.ofMinutes(10)));
  static final Setting<Long> DEDUP_CACHE_SIZE = Setting.of("dedup.cache-size", "500000",
      t -> (long) ValueParsers.integer(t, 0, 100_000_000));
  static final Setting<Duration> DEDUP_TTL = Setting.of("dedup.ttl", "28h",
      t -> ValueParsers.duration(t, Duration.ofSeconds(1), Duration.ofDays(30)));
  static final Setting<String> REDIS_URL =
      Setting.secret("redis.url", "",
      t -> ValueParsers.urlWithScheme(t, "redis://[:password@]host:port[/db]", "redis", "rediss"));
  static final Setting<Duration> REDIS_TIMEOUT = Setting.of("redis.timeout", "250ms",
      t -> ValueParsers.duration(t, Duration.ofMillis(1), Duration.ofSeconds(10)));
  static final Setting<Integer> PROCESS_WORKERS =
      Setting.of("process.workers", "2", t -> ValueParsers.integer(t, 1, 256));
  static final Setting<String> PROCESS_INSTANCE_ID =
      Setting.of("process.instance-id", "", String::trim);
  static final Setting<Duration> PROCESS_LEASE = Setting.of("process.lease", "30s",
      t -> ValueParsers.duration(t, Duration.ofMillis(100), Duration.ofHours(1)));
  static final Setting<Duration> PROCESS_POLL_INTERVAL = Setting.of("process.poll-interval", "500ms",
      t -> ValueParsers.duration(t, Duration.ofMillis(10), Duration.ofMinutes(1)));
  static final Setting<Integer> PROCESS_CLAIM_BATCH =
      Setting.of("process.claim-batch", "500", t -> ValueParsers.integer(t, 1, 10_000));
  static final Setting<Integer> PROCESS_MAX_IN_FLIGHT =
      Setting.of("process.max-in-flight", "5000", t -> ValueParsers.integer(t, 1, 1_000_000));
  static final Setting<Duration> PROCESS_CRITICAL_BUDGET = Setting.of("process.critical-budget", "5s",
      t -> ValueParsers.duration(t, Duration.ZERO, Duration.ofSeconds(9)));
  static final Setting<Duration> PROCESS_RETRY_BASE = Setting.of("process.retry-base", "60s",
      t -> ValueParsers.duration(t, Duration.ofMillis(1), Duration.ofDays(1)));
  static final Setting<Duration> PROCESS_RETRY_CAP = Setting.of("process.retry-cap", "1h",
      t -> ValueParsers.duration(t, Duration.ofMillis(1), Duration.ofDays(7)));
  static final Setting<Integer> PROCESS_MAX_RETRIES =
      Setting.of("process.max-retries", "5", t -> ValueParsers.integer(t, 0, 100));
  /** Testing resilience only: the fraction of processing attempts failed on purpose (see FaultInjector). */
  static final Setting<Double> PROCESS_FAULT_RATE =
      Setting.of("process.fault-rate", "0", t -> ValueParsers.fraction(t, 0, 1));
  static final Setting<Boolean> PROCESS_FIRST_ATTEMPT_ON_ARRIVAL =
      Setting.of("process.first-attempt-on-arrival", "true", ValueParsers::bool);
  static final Setting<String> CRM_DEFAULT_REGION =
      Setting.of("crm.default-region", "US", SettingsLoader::region);
  static final Setting<List<String>> CRM_OPT_OUT_KEYWORDS = Setting.of("crm.opt-out-keywords",
      "STOP,STOPALL,UNSUBSCRIBE,CANCEL,END,QUIT,REVOKE,OPTOUT", ValueParsers::list);
  static final Setting<List<String>> CRM_OPT_IN_KEYWORDS =
      Setting.of("crm.opt-in-keywords", "START,UNSTOP", ValueParsers::list);
  static final Setting<List<String>> CRM_HELP_KEYWORDS =
      Setting.of("crm.help-keywords", "HELP", ValueParsers::list);
  static final Setting<String> CRM_HELP_TEXT = Setting.of("crm.help-text",
      "Reply STOP to unsubscribe, START to subscribe again. Msg&data rates may apply.", ValueParsers::nonBlank);
  static final Setting<String> CRM_OPT_OUT_CONFIRMATION = Setting.of("crm.opt-out-confirmation",
      "You have been unsubscribed and will receive no more messages. Reply START to subscribe again.",
      ValueParsers::nonBlank);
  static final Setting<String> CRM_OPT_IN_CONFIRMATION = Setting.of("crm.opt-in-confirmation",
      "You are subscribed again. Reply STOP to unsubscribe.", ValueParsers::nonBlank);
  static final Setting<List<String>> CRM_INTERESTED_KEYWORDS = Setting.of("crm.interested-keywords",
      "YES,Y,INTERESTED,SURE,OK,PLEASE", ValueParsers::list);
  static final Setting<List<String>> CRM_NOT_INTERESTED_KEYWORDS = Setting.of("crm.not-interested-keywords",
      "NO,N,NOPE,NOT INTERESTED,NO THANKS", ValueParsers::list);
  static final Setting<Path> CRM_AUTOMATION_FILE =
      Setting.of("crm.automation-file", "conf/automation.yaml", t -> Path.of(t.trim()));
  static final Setting<String> API_BASE_URL =
      Setting.of("openphone.api-base-url", "https://api.openphone.com", t -> {
        String url = httpUrl(t);
        if (url.isEmpty()) {
          throw new IllegalArgumentException("must not be empty");
        }
        return url.replaceAll("/+$", "");
      });
  static final Setting<String> API_KEY = Setting.secret("openphone.api-key", "", String::trim);
  static final Setting<Duration> API_TIMEOUT = Setting.of("openphone.api-timeout", "10s",
      t -> ValueParsers.duration(t, Duration.ofMillis(100), Duration.ofMinutes(2)));
  static final Setting<String> API_FROM_NUMBER = Setting.of("openphone.from-number", "", String::trim);
  static final Setting<Double> API_SEND_RATE = Setting.of("openphone.send-rate", "5",
      t -> (double) ValueParsers.integer(t, 1, 1000));
  static final Setting<String> ALERTS_WEBHOOK_URL =
      Setting.secret("alerts.webhook-url", "", SettingsLoader::httpUrl);

  /** Every setting, in the order {@code conf/webhookd.yaml} documents them. */
  public static final List<Setting<?>> ALL = List.of(
      HTTP_HOST, HTTP_PORT, HTTP_INSTANCES, HTTP_MAX_BODY_SIZE, HTTP_SHUTDOWN_TIMEOUT,
      HTTP_TLS_CERT_FILE, HTTP_TLS_KEY_FILE, HTTP_HTTPS_ONLY, HTTP_TRUSTED_PROXIES, HTTP_RATE_LIMIT_PER_IP,
      HTTP_RATE_LIMIT_GLOBAL, HTTP_MAX_HEADER_SIZE, HTTP_IDLE_TIMEOUT, HTTP_REQUEST_TIMEOUT, HTTP_MAX_CONNECTIONS,
      MANAGEMENT_HOST, MANAGEMENT_PORT, MANAGEMENT_QUEUE_DEGRADED_ABOVE, MANAGEMENT_OLDEST_PENDING_DEGRADED_AFTER,
      MANAGEMENT_SUCCESS_RATE_DEGRADED_BELOW,
      DATA_DIR,
      OPENPHONE_SECRETS, OPENPHONE_SECRETS_FILE, OPENPHONE_TIMESTAMP_TOLERANCE,
      STORE_SQLITE_SYNCHRONOUS, STORE_SQLITE_PAGE_SIZE, STORE_BATCH_SIZE, STORE_BATCH_DELAY, STORE_QUEUE_CAPACITY,
      STORE_COMMIT_TIMEOUT,
      PG_URL, PG_POOL_SIZE, PG_OPERATION_TIMEOUT,
      DEDUP_CACHE_SIZE, DEDUP_TTL,
      REDIS_URL, REDIS_TIMEOUT,
      PROCESS_WORKERS, PROCESS_INSTANCE_ID, PROCESS_LEASE, PROCESS_POLL_INTERVAL, PROCESS_CLAIM_BATCH,
      PROCESS_MAX_IN_FLIGHT, PROCESS_CRITICAL_BUDGET, PROCESS_RETRY_BASE, PROCESS_RETRY_CAP,
      PROCESS_MAX_RETRIES, PROCESS_FAULT_RATE, PROCESS_FIRST_ATTEMPT_ON_ARRIVAL,
      ALERTS_WEBHOOK_URL,
      CRM_DEFAULT_REGION, CRM_OPT_OUT_KEYWORDS, CRM_OPT_IN_KEYWORDS, CRM_HELP_KEYWORDS, CRM_HELP_TEXT,
      CRM_OPT_OUT_CONFIRMATION, CRM_OPT_IN_CONFIRMATION, CRM_INTERESTED_KEYWORDS,
      CRM_NOT_INTERESTED_KEYWORDS, CRM_AUTOMATION_FILE,
      API_BASE_URL, API_KEY, API_TIMEOUT, API_FROM_NUMBER, API_SEND_RATE);

  private final Map<String, String> fileValues;
  private final Map<String, String> env;

  private SettingsLoader(Map<String, String> fileValues, Map<String, String> env) {
    this.fileValues = fileValues;
    this.env = env;
  }

  /**
   * @param explicitFile the {@code --config} path, or null
   * @param env          the process environment
   */
  public static Settings load(Path explicitFile, Map<String, String> env) {
    Path file = explicitFile;
    if (file == null && env.get("WEBHOOKD_CONFIG") != null && !env.get("WEBHOOKD_CONFIG").isBlank()) {
      file = Path.of(env.get("WEBHOOKD_CONFIG"));
    }
    Map<String, String> fileValues = new LinkedHashMap<>();
    if (file != null) {
      fileValues = readYaml(file, true);
    } else if (Files.isRegularFile(DEFAULT_FILE)) {
      fileValues = readYaml(DEFAULT_FILE, false);
    }
    return new SettingsLoader(fileValues, env).build();
  }

  private Settings build() {
    listenersApart(value(HTTP_HOST), value(HTTP_PORT), value(MANAGEMENT_HOST), value(MANAGEMENT_PORT));
    List<String> inlineSecrets = value(OPENPHONE_SECRETS);
    String secretsFile = value(OPENPHONE_SECRETS_FILE);
    List<String> secrets = new ArrayList<>(inlineSecrets);
    if (!secretsFile.isEmpty()) {
      secrets.addAll(readSecretsFile(Path.of(secretsFile)));
    }
    return new Settings(
        new Settings.Http(value(HTTP_HOST), value(HTTP_PORT), value(HTTP_INSTANCES),
            value(HTTP_MAX_BODY_SIZE), value(HTTP_SHUTDOWN_TIMEOUT), tlsFile(HTTP_TLS_CERT_FILE),
            tlsFile(HTTP_TLS_KEY_FILE), value(HTTP_HTTPS_ONLY), value(HTTP_TRUSTED_PROXIES),
            value(HTTP_RATE_LIMIT_PER_IP), value(HTTP_RATE_LIMIT_GLOBAL), value(HTTP_MAX_HEADER_SIZE),
            value(HTTP_IDLE_TIMEOUT), value(HTTP_REQUEST_TIMEOUT), value(HTTP_MAX_CONNECTIONS)),
        new Settings.Management(value(MANAGEMENT_HOST), value(MANAGEMENT_PORT),
            value(MANAGEMENT_QUEUE_DEGRADED_ABOVE), value(MANAGEMENT_OLDEST_PENDING_DEGRADED_AFTER),
            value(MANAGEMENT_SUCCESS_RATE_DEGRADED_BELOW)),
        value(DATA_DIR),
        new Settings.OpenPhone(List.copyOf(new LinkedHashSet<>(secrets)),
            value(OPENPHONE_TIMESTAMP_TOLERANCE), List.copyOf(inlineSecrets), secretsFile),
        new Settings.Store(value(STORE_SQLITE_SYNCHRONOUS), value(STORE_BATCH_SIZE),
            value(STORE_BATCH_DELAY), value(STORE_QUEUE_CAPACITY), value(STORE_COMMIT_TIMEOUT),
            value(STORE_SQLITE_PAGE_SIZE)),
        new Settings.Postgres(value(PG_URL), value(PG_POOL_SIZE), value(PG_OPERATION_TIMEOUT)),
        new Settings.Dedup(value(DEDUP_CACHE_SIZE), value(DEDUP_TTL), value(REDIS_URL),
            value(REDIS_TIMEOUT)),
        new Settings.Processing(value(PROCESS_WORKERS), instanceId(value(PROCESS_INSTANCE_ID)),
            value(PROCESS_LEASE), value(PROCESS_POLL_INTERVAL), value(PROCESS_CLAIM_BATCH),
            value(PROCESS_MAX_IN_FLIGHT), value(PROCESS_CRITICAL_BUDGET), value(PROCESS_RETRY_BASE),
            value(PROCESS_RETRY_CAP), value(PROCESS_MAX_RETRIES), value(ALERTS_WEBHOOK_URL),
            value(PROCESS_FAULT_RATE), value(PROCESS_FIRST_ATTEMPT_ON_ARRIVAL)),
        new Settings.Crm(value(CRM_DEFAULT_REGION), value(CRM_OPT_OUT_KEYWORDS), value(CRM_OPT_IN_KEYWORDS),
            value(CRM_HELP_KEYWORDS), value(CRM_HELP_TEXT), value(CRM_OPT_OUT_CONFIRMATION),
            value(CRM_OPT_IN_CONFIRMATION), value(CRM_INTERESTED_KEYWORDS),
            value(CRM_NOT_INTERESTED_KEYWORDS), value(CRM_AUTOMATION_FILE)),
        new Settings.OpenPhoneApi(value(API_BASE_URL), value(API_KEY), value(API_TIMEOUT),
            value(API_FROM_NUMBER), value(API_SEND_RATE)));
  }

  /**
   * The two listeners on one address and port would not fail to start: Vert.x shares a listening
   * socket among the servers of a process that listen on the same host and port, and hands each
   * connection to either, so webhooks would reach the management routes and get 404 now and then.
   * (A wildcard and a specific address on one port fail to bind; refused here all the same, by name.)
   */
  private static void listenersApart(String httpHost, int httpPort, String managementHost, int managementPort) {
    boolean sameAddress = httpHost.equals(managementHost) || wildcard(httpHost) || wildcard(managementHost);
    if (httpPort != 0 && httpPort == managementPort && sameAddress) {
      throw new InvalidSettingException(MANAGEMENT_PORT.displayName(),
          "must differ from " + HTTP_PORT.displayName() + " (both " + httpPort + ") when both listen on one address");
    }
  }

  private static boolean wildcard(String host) {
    return "0.0.0.0".equals(host) || "::".equals(host) || "[::]".equals(host);
  }

  /** A fresh name per process unless configured, so a restarted instance never inherits claims. */
  private static String instanceId(String configured) {
    return configured.isEmpty() ? "webhookd-" + UUID.randomUUID().toString().substring(0, 8) : configured;
  }

  /** A webhook URL may carry a token in its path, so it counts as a secret and is never echoed. */
  private static String httpUrl(String text) {
    return ValueParsers.urlWithScheme(text, "an http:// or https:// URL", "http", "https");
  }

  /** A TLS file must exist and be readable when set; a half-configured TLS is refused. */
  private String tlsFile(Setting<String> setting) {
    String path = value(setting);
    String other = value(setting == HTTP_TLS_CERT_FILE ? HTTP_TLS_KEY_FILE : HTTP_TLS_CERT_FILE);
    if (path.isEmpty() != other.isEmpty()) {
      throw new InvalidSettingException(setting.displayName(),
          "http.tls-cert-file and http.tls-key-file must be set together");
    }
    if (!path.isEmpty() && !Files.isReadable(Path.of(path))) {
      throw new InvalidSettingException(setting.displayName(), "file " + path + " cannot be read");
    }
    return path;
  }

  private static List<String> networks(String text) {
    List<String> networks = ValueParsers.list(text);
    networks.forEach(CidrRange::parse);
    return networks;
  }

  private static String region(String text) {
    String region = text.trim().toUpperCase(Locale.ROOT);
    if (!region.matches("[A-Z]{2}")) {
      throw new IllegalArgumentException("\"" + text + "\" is not a two-letter region code such as US");
    }
    return region;
  }

  private <T> T value(Setting<T> setting) {
    String text = env.get(setting.envName());
    if (text == null) {
      text = fileValues.getOrDefault(setting.key(), setting.defaultText());
    }
    try {
      return setting.parser().apply(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidSettingException(setting.displayName(), e.getMessage());
    }
  }

  /** One secret per line, {@code #} comments; also what the service reloads when the file changes. */
  public static List<String> readSecretsFile(Path path) {
    String name = OPENPHONE_SECRETS_FILE.displayName();
    try {
      return Files.readAllLines(path).stream()
          .map(String::trim)
          .filter(line -> !line.isEmpty() && !line.startsWith("#"))
          .flatMap(line -> ValueParsers.list(line).stream())
          .toList();
    } catch (NoSuchFileException e) {
      throw new InvalidSettingException(name, "file " + path + " does not exist");
    } catch (IOException e) {
      throw new InvalidSettingException(name, "file " + path + " cannot be read: " + e.getMessage());
    }
  }

  private static Map<String, String> readYaml(Path file, boolean mustExist) {
    Object root;
    try (Reader reader = Files.newBufferedReader(file)) {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(new SafeConstructor(options)).load(reader);
    } catch (NoSuchFileException e) {
      if (mustExist) {
        throw new InvalidSettingException("config file " + file + " (--config or WEBHOOKD_CONFIG) does not exist");
      }
      return Map.of();
    } catch (IOException e) {
      throw new InvalidSettingException("config file " + file + " cannot be read: " + e.getMessage());
    } catch (YAMLException e) {
      String firstLine = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      throw new InvalidSettingException("config file " + file + " is not valid YAML: " + firstLine);
    }
    Map<String, String> flat = new LinkedHashMap<>();
    if (root == null) {
      return flat;
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new InvalidSettingException("config file " + file + " must be a mapping of settings");
    }
    flatten("", map, flat);
    var known = ALL.stream().map(Setting::key).collect(Collectors.toSet());
    for (String key : flat.keySet()) {
      if (!known.contains(key)) {
        throw new InvalidSettingException("unknown setting " + key + " in " + file);
      }
    }
    return flat;
  }

  private static void flatten(String prefix, Map<?, ?> map, Map<String, String> into) {
    for (var entry : map.entrySet()) {
      String key = prefix + entry.getKey();
      Object value = entry.getValue();
      if (value instanceof Map<?, ?> nested) {
        flatten(key + ".", nested, into);
      } else if (value instanceof List<?> list) {
        if (list.stream().anyMatch(Boolean.class::isInstance)) {
          // YAML reads unquoted YES, NO, ON, OFF as true and false.
          throw new InvalidSettingException(key, "a list item was read as true/false; quote words such as"
              + " \"YES\" and \"NO\"");
        }
        into.put(key, list.stream().map(String::valueOf).collect(Collectors.joining(",")));
      } else if (value != null) {
        into.put(key, String.valueOf(value));
      }
    }
  }
}
