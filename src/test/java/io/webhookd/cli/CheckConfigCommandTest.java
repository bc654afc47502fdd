package io.webhookd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.testing.TestSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code webhookd check-config}: the settings as serve loads them, secrets masked; exit 2 when invalid. */
class CheckConfigCommandTest {

  @TempDir
  Path dir;

  @Test
  void printsASummaryWithSecretsMasked() throws Exception {
    String secret = TestSigner.newOpenPhoneSecret();
    Path config = Files.writeString(dir.resolve("webhookd.yaml"), """
        http:
          port: 9123
        openphone:
          secrets: "%s"
        pg:
          url: "postgresql://webhookd:hunter2-password@db.internal:5433/webhookd"
        alerts:
          webhook-url: "https://hooks.example.com/services/T0KEN-in-path"
        """.formatted(secret));

    Cli.Result result = Cli.run("check-config", "--config", config.toString());

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.out())
        .contains("config file:    " + config)
        .contains("database:       postgresql db.internal:5433/webhookd")
        .contains("port=9123")
        .contains("secrets=1 configured")
        .contains("Postgres[configured")
        .contains("alertWebhook=configured")
        .doesNotContain(secret)
        .doesNotContain("hunter2")
        .doesNotContain("T0KEN");
    for (String part : new String[] {"http", "management", "dataDir", "openphone", "store", "postgres", "dedup",
        "processing", "crm"}) {
      assertThat(result.out()).contains("\n" + part + ":");
    }
    assertThat(result.err()).doesNotContain(secret);
  }

  @Test
  void warnsWhenNoSigningSecretIsConfigured() throws Exception {
    Path config = Files.writeString(dir.resolve("webhookd.yaml"), "data-dir: " + dir.resolve("data") + "\n");

    Cli.Result result = Cli.run("check-config", "--config", config.toString());

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(result.out()).contains("database:       sqlite " + dir.resolve("data").resolve("webhookd.db"));
    assertThat(result.err()).contains("no OpenPhone signing secret is configured");
  }

  @Test
  void anInvalidSettingExitsWith2AndOneLineNamingIt() throws Exception {
    Path config = Files.writeString(dir.resolve("webhookd.yaml"), "http:\n  port: 99999\n");

    Cli.Result result = Cli.run("check-config", "--config", config.toString());

    assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEqualTo(
        "webhookd: invalid setting http.port (WEBHOOKD_HTTP_PORT): 99999 is outside 0..65535\n");
  }

  @Test
  void anUnknownSettingOrAMissingFileExitsWith2() throws Exception {
    Path config = Files.writeString(dir.resolve("webhookd.yaml"), "htp:\n  port: 8080\n");

    Cli.Result unknown = Cli.run("check-config", "--config", config.toString());
    assertThat(unknown.exitCode()).as("%s", unknown).isEqualTo(2);
    assertThat(unknown.err()).contains("unknown setting htp.port");

    Cli.Result missing = Cli.run("check-config", "--config", dir.resolve("nope.yaml").toString());
    assertThat(missing.exitCode()).as("%s", missing).isEqualTo(2);
    assertThat(missing.err()).contains("does not exist");
  }

  /** The store commands refuse an invalid configuration the same way, before touching any store. */
  @Test
  void storeCommandsExitWith2OnAnInvalidSetting() throws Exception {
    Path config = Files.writeString(dir.resolve("webhookd.yaml"),
        "data-dir: " + dir.resolve("data") + "\nstore:\n  batch-size: 0\n");

    for (String[] args : new String[][] {{"dlq", "list"}, {"dlq", "replay", "--all"}, {"events", "list"},
        {"events", "show", "1"}, {"migrate"}}) {
      Cli.Result result = Cli.run(config, args);
      assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
      assertThat(result.err()).isEqualTo("webhookd: invalid setting store.batch-size (WEBHOOKD_STORE_BATCH_SIZE):"
          + " 0 is outside 1..100000\n");
      assertThat(result.out()).isEmpty();
    }
    assertThat(dir.resolve("data")).doesNotExist();
  }

  /** A store that cannot be opened is a failure (1), said in one line, not a stack trace. */
  @Test
  void anUnreachableStoreExitsWith1() throws Exception {
    int closedPort = io.webhookd.testing.InProcessServer.freePort();
    Path config = Files.writeString(dir.resolve("webhookd.yaml"),
        "pg:\n  url: \"postgresql://nobody@127.0.0.1:" + closedPort + "/none\"\n");

    Cli.Result result = Cli.run(config, "dlq", "list");

    assertThat(result.exitCode()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).startsWith("webhookd: ").doesNotContain("\tat ");
    assertThat(result.err().lines()).hasSize(1);
  }
}
