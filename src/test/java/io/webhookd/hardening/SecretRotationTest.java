package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotating the signing secret without a restart, through the secrets file (checked every 2 s): the
 * new secret is added first, the old one stays accepted (counted as
 * {@code webhook_old_secret_used_total} and logged once a minute at WARN) until it is removed.
 */
class SecretRotationTest {

  private static final Duration RELOAD_DEADLINE = Duration.ofSeconds(15);

  @TempDir
  Path dir;

  @Test
  void aSecretAddedToTheFileIsAcceptedAndTheOldOneIsFlaggedUntilRemoved() throws Exception {
    String a = TestSigner.newOpenPhoneSecret();
    String b = TestSigner.newOpenPhoneSecret();
    Path secrets = dir.resolve("secrets");
    write(secrets, "# current secret\n" + a + "\n");

    try (LogCapture notices = LogCapture.of("io.webhookd.ingest.OldSecretNotice");
         HardenedServer server = HardenedServer.start(dir, Map.of(
             "WEBHOOKD_OPENPHONE_SECRETS_FILE", secrets.toString()))) {
      assertThat(server.postSigned(a, body()).status()).isEqualTo(200);
      RawHttp.Response beforeRotation = server.postSigned(b, body());
      assertThat(beforeRotation.status()).isEqualTo(401);
      assertThat(beforeRotation.code()).isEqualTo("invalid_signature");

      // Rotation starts: the new secret first, the old one still there.
      write(secrets, b + "\n" + a + "\n");
      Poll.until("the new secret to be accepted", RELOAD_DEADLINE,
          () -> server.postSigned(b, body()).status(), status -> status == 200);
      assertThat(server.metric("webhook_old_secret_used_total")).isZero();
      assertThat(notices.events()).isEmpty();

      RawHttp.Response old = server.postSigned(a, body());
      assertThat(old.status()).as("%s", old).isEqualTo(200);
      assertThat(server.metric("webhook_old_secret_used_total", "scheme=openphone")).isEqualTo(1.0);
      assertThat(server.postSigned(a, body()).status()).isEqualTo(200);
      assertThat(server.metric("webhook_old_secret_used_total", "scheme=openphone")).isEqualTo(2.0);
      assertThat(notices.matching(e -> e.getLevel() == Level.WARN))
          .as("one WARN line about the old secret (at most one a minute)")
          .hasSize(1)
          .allSatisfy(e -> assertThat(e.getFormattedMessage()).contains("old secret").doesNotContain(a));

      // Rotation ends: the old secret is removed.
      write(secrets, b + "\n");
      Poll.until("the removed secret to be refused", RELOAD_DEADLINE,
          () -> server.postSigned(a, body()).status(), status -> status == 401);
      double oldUses = server.metric("webhook_old_secret_used_total", "scheme=openphone");
      RawHttp.Response removed = server.postSigned(a, body());
      assertThat(removed.status()).isEqualTo(401);
      assertThat(removed.code()).isEqualTo("invalid_signature");
      assertThat(server.postSigned(b, body()).status()).isEqualTo(200);
      assertThat(server.metric("webhook_old_secret_used_total", "scheme=openphone")).isEqualTo(oldUses);
    }
  }

  @Test
  void anUnreadableSecretsFileKeepsTheSecretsInUse() throws Exception {
    String a = TestSigner.newOpenPhoneSecret();
    Path secrets = dir.resolve("secrets");
    write(secrets, a + "\n");
    try (LogCapture reloads = LogCapture.of("io.webhookd.ingest.SecretsReloader");
         HardenedServer server = HardenedServer.start(dir, Map.of(
             "WEBHOOKD_OPENPHONE_SECRETS_FILE", secrets.toString()))) {
      Files.delete(secrets);
      Poll.until("the reloader to notice the missing file", RELOAD_DEADLINE,
          () -> reloads.matching(e -> e.getLevel() == Level.ERROR).size(), n -> n > 0);
      assertThat(server.postSigned(a, body()).status()).isEqualTo(200);
      assertThat(reloads.events()).allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(a));
    }
  }

  private static byte[] body() {
    return HardenedServer.newEventBody(HardenedServer.newEventId());
  }

  /** Replaces the file in one step, as an operator's tooling would. */
  private static void write(Path file, String content) throws Exception {
    Path staged = file.resolveSibling(file.getFileName() + ".new");
    Files.writeString(staged, content);
    Files.move(staged, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
