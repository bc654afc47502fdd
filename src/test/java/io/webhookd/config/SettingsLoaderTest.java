package io.webhookd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.webhookd.config.Settings.SqliteSynchronous;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class SettingsLoaderTest {

  @TempDir
  Path dir;

  /** An explicit empty file, so the working directory's conf/webhookd.yaml is never read. */
  private Path emptyConfig() throws IOException {
    return Files.writeString(dir.resolve("empty.yaml"), "");
  }

  private Path yaml(String text) throws IOException {
    return Files.writeString(dir.resolve("webhookd.yaml"), text);
  }

  private Settings loadEnv(Map<String, String> env) throws IOException {
    return SettingsLoader.load(emptyConfig(), env);
  }

  // ---- defaults, file, environment --------------------------------------------------------------

  @Test
  void defaultsWithAnEmptyFileAndNoEnvironment() throws IOException {
    Settings s = loadEnv(Map.of());

    assertThat(s.http().host()).isEqualTo("0.0.0.0");
    assertThat(s.http().port()).isEqualTo(8080);
    assertThat(s.http().instances()).isZero();
    assertThat(s.http().maxBodyBytes()).isEqualTo(1024 * 1024);
    assertThat(s.http().shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.dataDir()).isEqualTo(Path.of("./data"));
    assertThat(s.openphone().secrets()).isEmpty();
    assertThat(s.openphone().timestampTolerance()).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.store().sqliteSynchronous()).isEqualTo(SqliteSynchronous.FULL);
    assertThat(s.store().batchSize()).isEqualTo(512);
    assertThat(s.store().batchDelay()).isEqualTo(Duration.ofMillis(1));
    assertThat(s.store().queueCapacity()).isEqualTo(20_000);
    assertThat(s.dedup().cacheSize()).isEqualTo(500_000);
    assertThat(s.dedup().ttl()).isEqualTo(Duration.ofHours(28));
    assertThat(s.processing().workers()).isEqualTo(2);
  }

  @Test
  void everyDefaultTextParses() {
    for (Setting<?> setting : SettingsLoader.ALL) {
      assertThat(setting.parser().apply(setting.defaultText())).as(setting.key()).isNotNull();
    }
  }

  @Test
  void envNamesFollowTheKey() {
    assertThat(SettingsLoader.HTTP_PORT.envName()).isEqualTo("WEBHOOKD_HTTP_PORT");
    assertThat(SettingsLoader.HTTP_MAX_BODY_SIZE.envName()).isEqualTo("WEBHOOKD_HTTP_MAX_BODY_SIZE");
    assertThat(SettingsLoader.DATA_DIR.envName()).isEqualTo("WEBHOOKD_DATA_DIR");
    assertThat(SettingsLoader.STORE_SQLITE_SYNCHRONOUS.envName()).isEqualTo("WEBHOOKD_STORE_SQLITE_SYNCHRONOUS");
    assertThat(SettingsLoader.ALL.stream().map(Setting::envName).distinct()).hasSameSizeAs(SettingsLoader.ALL);
  }

  @Test
  void yamlFileValuesAreUsed() throws IOException {
    Path file = yaml("""
        http:
          host: 127.0.0.1
          port: 9000
          instances: 4
          max-body-size: 2MiB
          shutdown-timeout: 10s
        data-dir: /var/lib/webhookd
        openphone:
          secrets: [one, two]
          timestamp-tolerance: 2m
        store:
          sqlite:
            synchronous: normal
          batch-size: 64
          batch-delay: 2ms
          queue-capacity: 100
        dedup:
          cache-size: 1000
          ttl: 30h
        process:
          workers: 3
        """);
    Settings s = SettingsLoader.load(file, Map.of());

    assertThat(s.http().host()).isEqualTo("127.0.0.1");
    assertThat(s.http().port()).isEqualTo(9000);
    assertThat(s.http().instances()).isEqualTo(4);
    assertThat(s.http().maxBodyBytes()).isEqualTo(2L * 1024 * 1024);
    assertThat(s.http().shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.dataDir()).isEqualTo(Path.of("/var/lib/webhookd"));
    assertThat(s.openphone().secrets()).containsExactly("one", "two");
    assertThat(s.openphone().timestampTolerance()).isEqualTo(Duration.ofMinutes(2));
    assertThat(s.store().sqliteSynchronous()).isEqualTo(SqliteSynchronous.NORMAL);
    assertThat(s.store().batchSize()).isEqualTo(64);
    assertThat(s.store().batchDelay()).isEqualTo(Duration.ofMillis(2));
    assertThat(s.store().queueCapacity()).isEqualTo(100);
    assertThat(s.dedup().cacheSize()).isEqualTo(1000);
    assertThat(s.dedup().ttl()).isEqualTo(Duration.ofHours(30));
    assertThat(s.processing().workers()).isEqualTo(3);
  }

  @Test
  void environmentOverridesYaml() throws IOException {
    Path file = yaml("""
        http:
          port: 9000
          host: 127.0.0.1
        data-dir: /from/yaml
        openphone:
          timestamp-tolerance: 2m
        store:
          sqlite:
            synchronous: NORMAL
        """);
    Settings s = SettingsLoader.load(file, Map.of(
        "WEBHOOKD_HTTP_PORT", "9100",
        "WEBHOOKD_DATA_DIR", "/from/env",
        "WEBHOOKD_OPENPHONE_TIMESTAMP_TOLERANCE", "90s",
        "WEBHOOKD_STORE_SQLITE_SYNCHRONOUS", "full",
        "WEBHOOKD_HTTP_MAX_BODY_SIZE", "64KiB"));

    assertThat(s.http().port()).isEqualTo(9100);
    assertThat(s.http().host()).isEqualTo("127.0.0.1"); // not overridden: the file's value stays
    assertThat(s.dataDir()).isEqualTo(Path.of("/from/env"));
    assertThat(s.openphone().timestampTolerance()).isEqualTo(Duration.ofSeconds(90));
    assertThat(s.store().sqliteSynchronous()).isEqualTo(SqliteSynchronous.FULL);
    assertThat(s.http().maxBodyBytes()).isEqualTo(64 * 1024);
  }

  @Test
  void configFileCanBeNamedByWebhookdConfig() throws IOException {
    Path file = yaml("http:\n  port: 9200\n");
    Settings s = SettingsLoader.load(null, Map.of("WEBHOOKD_CONFIG", file.toString()));
    assertThat(s.http().port()).isEqualTo(9200);
  }

  @Test
  void explicitFileWinsOverWebhookdConfig() throws IOException {
    Path file = yaml("http:\n  port: 9200\n");
    Path other = Files.writeString(dir.resolve("other.yaml"), "http:\n  port: 9300\n");
    Settings s = SettingsLoader.load(file, Map.of("WEBHOOKD_CONFIG", other.toString()));
    assertThat(s.http().port()).isEqualTo(9200);
  }

  // ---- secrets ----------------------------------------------------------------------------------

  @Test
  void secretsFromTheEnvironmentAreCommaSeparated() throws IOException {
    Settings s = loadEnv(Map.of("WEBHOOKD_OPENPHONE_SECRETS", " first , second,,third "));
    assertThat(s.openphone().secrets()).containsExactly("first", "second", "third");
  }

  @Test
  void secretsFileIsMergedWithConfiguredSecrets() throws IOException {
    Path secrets = Files.writeString(dir.resolve("secrets"), """
        # the current secret
        from-file-1

          from-file-2  \s
        # second
        # commented-out
        second
        """);
    Settings s = loadEnv(Map.of(
        "WEBHOOKD_OPENPHONE_SECRETS", "first,second",
        "WEBHOOKD_OPENPHONE_SECRETS_FILE", secrets.toString()));
    assertThat(s.openphone().secrets()).containsExactly("first", "second", "from-file-1", "from-file-2");
    assertThat(s.openphone().secrets()).doesNotContain("commented-out", "# the current secret");
  }

  @Test
  void secretsFileNamedInYaml() throws IOException {
    Path secrets = Files.writeString(dir.resolve("secrets"), "only-one\n");
    Path file = yaml("openphone:\n  secrets-file: " + secrets + "\n");
    assertThat(SettingsLoader.load(file, Map.of()).openphone().secrets()).containsExactly("only-one");
  }

  @Test
  void settingsToStringNeverShowsSecrets() throws IOException {
    Settings s = loadEnv(Map.of("WEBHOOKD_OPENPHONE_SECRETS", "s3cr3t-one,s3cr3t-two"));
    assertThat(s.toString()).doesNotContain("s3cr3t").contains("2 configured");
  }

  // ---- refusals ---------------------------------------------------------------------------------

  private void assertRefused(Map<String, String> env, String key, String envName) {
    assertThatThrownBy(() -> loadEnv(env))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining(key)
        .hasMessageContaining(envName);
  }

  @Test
  void theManagementListenerMayNotShareTheWebhookListenersAddressAndPort() throws IOException {
    assertRefused(Map.of("WEBHOOKD_HTTP_PORT", "9000", "WEBHOOKD_MANAGEMENT_PORT", "9000"),
        "management.port", "WEBHOOKD_MANAGEMENT_PORT");
    assertRefused(Map.of("WEBHOOKD_HTTP_HOST", "127.0.0.1", "WEBHOOKD_HTTP_PORT", "9000",
        "WEBHOOKD_MANAGEMENT_PORT", "9000"), "management.port", "WEBHOOKD_MANAGEMENT_PORT");
    // Two specific addresses may share a port number; port 0 asks each listener for a port of its own.
    Settings apart = loadEnv(Map.of("WEBHOOKD_HTTP_HOST", "10.0.0.5", "WEBHOOKD_HTTP_PORT", "9000",
        "WEBHOOKD_MANAGEMENT_PORT", "9000"));
    assertThat(apart.management().port()).isEqualTo(apart.http().port());
    Settings ephemeral = loadEnv(Map.of("WEBHOOKD_HTTP_PORT", "0", "WEBHOOKD_MANAGEMENT_PORT", "0"));
    assertThat(ephemeral.http().port()).isZero();
  }

  @Test
  void invalidPortNamesTheSettingAndItsVariable() {
    assertRefused(Map.of("WEBHOOKD_HTTP_PORT", "eighty"), "http.port", "WEBHOOKD_HTTP_PORT");
    assertRefused(Map.of("WEBHOOKD_HTTP_PORT", "70000"), "http.port", "WEBHOOKD_HTTP_PORT");
    assertRefused(Map.of("WEBHOOKD_HTTP_PORT", "-1"), "http.port", "WEBHOOKD_HTTP_PORT");
    assertRefused(Map.of("WEBHOOKD_HTTP_PORT", ""), "http.port", "WEBHOOKD_HTTP_PORT");
  }

  @Test
  void invalidPortInYamlNamesTheSettingAndItsVariable() throws IOException {
    Path file = yaml("http:\n  port: eighty\n");
    assertThatThrownBy(() -> SettingsLoader.load(file, Map.of()))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining("http.port")
        .hasMessageContaining("WEBHOOKD_HTTP_PORT")
        .hasMessageContaining("eighty");
  }

  @Test
  void invalidDurationNamesTheSettingAndItsVariable() {
    assertRefused(Map.of("WEBHOOKD_OPENPHONE_TIMESTAMP_TOLERANCE", "5 minutes"),
        "openphone.timestamp-tolerance", "WEBHOOKD_OPENPHONE_TIMESTAMP_TOLERANCE");
    assertRefused(Map.of("WEBHOOKD_OPENPHONE_TIMESTAMP_TOLERANCE", "2h"), // beyond the 1h maximum
        "openphone.timestamp-tolerance", "WEBHOOKD_OPENPHONE_TIMESTAMP_TOLERANCE");
    assertRefused(Map.of("WEBHOOKD_DEDUP_TTL", "-1h"), "dedup.ttl", "WEBHOOKD_DEDUP_TTL");
  }

  @Test
  void invalidSizeAndChoiceNameTheSetting() {
    assertRefused(Map.of("WEBHOOKD_HTTP_MAX_BODY_SIZE", "lots"), "http.max-body-size", "WEBHOOKD_HTTP_MAX_BODY_SIZE");
    assertRefused(Map.of("WEBHOOKD_STORE_SQLITE_SYNCHRONOUS", "OFF"),
        "store.sqlite.synchronous", "WEBHOOKD_STORE_SQLITE_SYNCHRONOUS");
    assertRefused(Map.of("WEBHOOKD_HTTP_HOST", "  "), "http.host", "WEBHOOKD_HTTP_HOST");
    assertRefused(Map.of("WEBHOOKD_STORE_SQLITE_PAGE_SIZE", "3000"), // not a power of two
        "store.sqlite.page-size", "WEBHOOKD_STORE_SQLITE_PAGE_SIZE");
    assertRefused(Map.of("WEBHOOKD_STORE_SQLITE_PAGE_SIZE", "256"),
        "store.sqlite.page-size", "WEBHOOKD_STORE_SQLITE_PAGE_SIZE");
  }

  @Test
  void faultRateIsAFractionOffByDefault() throws IOException {
    assertThat(loadEnv(Map.of()).processing().faultRate()).isZero();
    assertThat(loadEnv(Map.of("WEBHOOKD_PROCESS_FAULT_RATE", "0.3")).processing().faultRate()).isEqualTo(0.3);
    assertThat(loadEnv(Map.of("WEBHOOKD_PROCESS_FAULT_RATE", "1")).processing().faultRate()).isEqualTo(1.0);
    assertThat(SettingsLoader.load(yaml("process:\n  fault-rate: 0.05\n"), Map.of()).processing().faultRate())
        .isEqualTo(0.05);
    for (String bad : List.of("-0.1", "1.01", "30%", "lots", "NaN", "Infinity", "")) {
      assertRefused(Map.of("WEBHOOKD_PROCESS_FAULT_RATE", bad), "process.fault-rate", "WEBHOOKD_PROCESS_FAULT_RATE");
    }
  }

  @Test
  void urlSettingsAcceptOnlyTheirSchemes() throws IOException {
    Settings ok = loadEnv(Map.of(
        "WEBHOOKD_PG_URL", " postgres://app@db:5432/webhookd ",
        "WEBHOOKD_REDIS_URL", "rediss://cache:6380/1",
        "WEBHOOKD_ALERTS_WEBHOOK_URL", "http://hooks.example.com/x",
        "WEBHOOKD_OPENPHONE_API_BASE_URL", "https://api.example.com//"));
    assertThat(ok.postgres().url()).isEqualTo("postgres://app@db:5432/webhookd");
    assertThat(ok.dedup().redisUrl()).isEqualTo("rediss://cache:6380/1");
    assertThat(ok.processing().alertWebhookUrl()).isEqualTo("http://hooks.example.com/x");
    assertThat(ok.api().baseUrl()).isEqualTo("https://api.example.com");
    assertThat(loadEnv(Map.of("WEBHOOKD_PG_URL", "postgresql://app@db/webhookd")).postgres().url())
        .isEqualTo("postgresql://app@db/webhookd");
    assertThat(loadEnv(Map.of("WEBHOOKD_REDIS_URL", "redis://127.0.0.1:6379")).dedup().redisUrl())
        .isEqualTo("redis://127.0.0.1:6379");

    Map<String, String> refused = Map.of(
        "WEBHOOKD_PG_URL", "redis://db:5432/webhookd",
        "WEBHOOKD_REDIS_URL", "postgresql://cache:6379",
        "WEBHOOKD_ALERTS_WEBHOOK_URL", "ftp://hooks.example.com/x",
        "WEBHOOKD_OPENPHONE_API_BASE_URL", "api.openphone.com");
    refused.forEach((name, value) -> assertThatThrownBy(() -> loadEnv(Map.of(name, value)))
        .as(name).isInstanceOf(InvalidSettingException.class).hasMessageContaining(name)
        .hasMessageContaining("must look like"));
    // A scheme name alone, without "://", is not enough.
    assertRefused(Map.of("WEBHOOKD_REDIS_URL", "redis:cache"), "redis.url", "WEBHOOKD_REDIS_URL");
  }

  @Test
  void unknownKeyInYamlIsRefusedByName() throws IOException {
    Path file = yaml("http:\n  prot: 9000\n");
    assertThatThrownBy(() -> SettingsLoader.load(file, Map.of()))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining("http.prot")
        .hasMessageContaining(file.toString());
  }

  @Test
  void yamlThatIsNotAMappingOrNotYamlIsRefused() throws IOException {
    Path list = yaml("- http.port: 9000\n");
    assertThatThrownBy(() -> SettingsLoader.load(list, Map.of())).isInstanceOf(InvalidSettingException.class);
    Path broken = Files.writeString(dir.resolve("broken.yaml"), "http:\n  port: [9000\n");
    assertThatThrownBy(() -> SettingsLoader.load(broken, Map.of()))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining(broken.toString());
  }

  @Test
  void missingExplicitConfigFileIsRefused() {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> SettingsLoader.load(missing, Map.of()))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> SettingsLoader.load(null, Map.of("WEBHOOKD_CONFIG", missing.toString())))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining(missing.toString());
  }

  @Test
  void missingSecretsFileNamesTheSettingAndItsVariable() {
    Path missing = dir.resolve("no-secrets");
    assertThatThrownBy(() -> loadEnv(Map.of("WEBHOOKD_OPENPHONE_SECRETS_FILE", missing.toString())))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining("openphone.secrets-file")
        .hasMessageContaining("WEBHOOKD_OPENPHONE_SECRETS_FILE")
        .hasMessageContaining(missing.toString());
  }

  @Test
  void refusalsNeverEchoASecret() throws IOException {
    String secret = "hunter2-" + Long.toHexString(System.nanoTime());
    Map<String, String> env = new HashMap<>();
    env.put("WEBHOOKD_OPENPHONE_SECRETS", secret);
    env.put("WEBHOOKD_HTTP_PORT", "not-a-port");
    assertThatThrownBy(() -> loadEnv(env))
        .isInstanceOf(InvalidSettingException.class)
        .message().doesNotContain(secret);

    // A secret pasted into the wrong YAML key is refused by key, without its value.
    Path file = yaml("openphone:\n  secret: \"" + secret + "\"\n");
    assertThatThrownBy(() -> SettingsLoader.load(file, Map.of()))
        .isInstanceOf(InvalidSettingException.class)
        .message().contains("openphone.secret").doesNotContain(secret);

    // A secrets file that cannot be read as text is refused without its content.
    Path binary = dir.resolve("binary-secrets");
    Files.write(binary, new byte[] {'h', 'u', 'n', (byte) 0xff, (byte) 0xfe, 't', 'e', 'r'});
    assertThatThrownBy(() -> loadEnv(Map.of("WEBHOOKD_OPENPHONE_SECRETS_FILE", binary.toString())))
        .isInstanceOf(InvalidSettingException.class)
        .message().contains("openphone.secrets-file").doesNotContain("hun");
  }

  @Test
  void brokenYamlAroundASecretIsRefusedWithoutEchoingIt() throws IOException {
    String secret = "whsec_" + Long.toHexString(System.nanoTime());
    List<String> broken = List.of(
        "openphone:\n  secrets: \"" + secret + "\n",
        "openphone:\n  secrets: [" + secret + "\n",
        "openphone:\n  secrets: " + secret + ": x\n",
        "openphone:\n\tsecrets: " + secret + "\n",
        "openphone:\n  secrets:\n  - " + secret + "\n - " + secret + "\n");
    for (String text : broken) {
      Path file = yaml(text);
      assertThatThrownBy(() -> SettingsLoader.load(file, Map.of()))
          .as(text)
          .isInstanceOf(InvalidSettingException.class)
          .message().contains(file.toString()).doesNotContain(secret);
    }
  }

  private static List<Setting<?>> secretSettings() {
    return SettingsLoader.ALL.stream().filter(Setting::secret).toList();
  }

  /** Every secret setting (secrets, URLs that may carry a password) given a bad value. */
  @Test
  void invalidSecretValuesAreNeverEchoed() {
    String password = "pw-" + Long.toHexString(System.nanoTime());
    int refused = 0;
    for (Setting<?> setting : secretSettings()) {
      for (String bad : List.of("mysql://app:" + password + "@db:3306/x", "\"" + password + "\"",
          "http://:" + password + "@cache:6379", password + " ")) {
        try {
          loadEnv(Map.of(setting.envName(), bad));
        } catch (InvalidSettingException e) {
          refused++;
          assertThat(e.getMessage()).as(setting.key())
              .contains(setting.key(), setting.envName())
              .doesNotContain(password);
        } catch (IOException e) {
          throw new AssertionError(e);
        }
      }
    }
    assertThat(secretSettings()).extracting(Setting::key).contains("openphone.secrets");
    assertThat(refused).as("some secret setting refused a bad value").isPositive();
  }

  /** Every secret setting given an accepted value that holds a password: not printed. */
  @Test
  void settingsToStringNeverShowsSecretValues() throws IOException {
    String password = "pw-" + Long.toHexString(System.nanoTime());
    Map<String, String> env = new HashMap<>();
    for (Setting<?> setting : secretSettings()) {
      for (String candidate : List.of("postgresql://app:" + password + "@db:5432/webhookd",
          "redis://:" + password + "@cache:6379/0", "https://hooks.example.com/services/" + password,
          "https://alerts:" + password + "@hooks.example.com/x", password)) {
        try {
          loadEnv(Map.of(setting.envName(), candidate));
          env.put(setting.envName(), candidate);
          break;
        } catch (InvalidSettingException e) {
          // try the next form
        }
      }
    }
    assertThat(env).as("an accepted value for every secret setting").hasSameSizeAs(secretSettings());
    assertThat(loadEnv(env).toString()).doesNotContain(password);
  }

  // ---- the shipped configuration file -----------------------------------------------------------

  /** The documented file lists every setting with its default, so it doubles as the reference. */
  @Test
  void shippedConfFileListsEverySettingWithItsDefault() throws IOException {
    Path conf = Path.of("conf/webhookd.yaml");
    assertThat(conf).as("conf/webhookd.yaml relative to the project root").isRegularFile();

    Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(conf));
    assertThat(root).isInstanceOf(Map.class);
    Map<String, String> flat = new LinkedHashMap<>();
    flatten("", (Map<?, ?>) root, flat);

    Map<String, String> expected = SettingsLoader.ALL.stream()
        .collect(Collectors.toMap(Setting::key, Setting::defaultText, (a, b) -> a, LinkedHashMap::new));
    List<String> missing = expected.keySet().stream().filter(k -> !flat.containsKey(k)).toList();
    assertThat(missing).as("settings missing from " + conf).isEmpty();
    Map<String, String> documented = new LinkedHashMap<>(flat);
    documented.keySet().retainAll(expected.keySet());
    assertThat(documented).as("documented defaults in " + conf).isEqualTo(expected);
    assertThat(flat.keySet()).as("keys in " + conf + " that are not settings").isSubsetOf(expected.keySet());

    // And the loader reads it as the defaults.
    Settings fromConf = SettingsLoader.load(conf, Map.of());
    Settings defaults = loadEnv(Map.of());
    assertThat(fromConf.http()).isEqualTo(defaults.http());
    assertThat(fromConf.dataDir()).isEqualTo(defaults.dataDir());
    assertThat(fromConf.openphone()).isEqualTo(defaults.openphone());
    assertThat(fromConf.store()).isEqualTo(defaults.store());
    assertThat(fromConf.dedup()).isEqualTo(defaults.dedup());
    assertThat(fromConf.processing().workers()).isEqualTo(defaults.processing().workers());
  }

  /** Nested keys joined with dots, lists joined with commas: the loader's own reading. */
  private static void flatten(String prefix, Map<?, ?> map, Map<String, String> into) {
    for (var entry : map.entrySet()) {
      String key = prefix + entry.getKey();
      Object value = entry.getValue();
      if (value instanceof Map<?, ?> nested) {
        flatten(key + ".", nested, into);
      } else if (value instanceof List<?> list) {
        into.put(key, list.stream().map(String::valueOf).collect(Collectors.joining(",")));
      } else {
        into.put(key, value == null ? "" : String.valueOf(value));
      }
    }
  }
}
