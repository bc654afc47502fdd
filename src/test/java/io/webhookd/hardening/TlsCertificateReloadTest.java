package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.ingest.IngestVerticle;
import io.webhookd.testing.Poll;
import io.webhookd.testing.TestSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS on the webhook port with a PEM certificate and key the test generates, and a certificate
 * renewal while the service runs: new connections get the new certificate (the files are checked
 * every 5 s), connections opened before keep working.
 */
class TlsCertificateReloadTest {

  /** The watcher checks every 5 s; allow for a slow machine. */
  private static final Duration RELOAD_DEADLINE = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  @Test
  void servesHttpsAndSwitchesToARenewedCertificateWithoutDroppingOpenConnections() throws Exception {
    Certificates.Pair first = Certificates.generate(dir, "first");
    Path certFile = dir.resolve("tls.crt");
    Path keyFile = dir.resolve("tls.key");
    Files.copy(first.certFile(), certFile);
    Files.copy(first.keyFile(), keyFile);

    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_TLS_CERT_FILE", certFile.toString(),
        "WEBHOOKD_HTTP_TLS_KEY_FILE", keyFile.toString()))) {
      Certificates.Pair second = Certificates.generate(dir, "second");
      SSLContext trustsBoth = Certificates.trusting(first.certificate(), second.certificate());
      SSLContext trustsFirstOnly = Certificates.trusting(first.certificate());

      // A signed webhook over HTTPS, on a connection the test keeps open (keep-alive).
      try (RawHttp before = RawHttp.tls(trustsBoth, first.hostname(), server.port())) {
        assertThat(before.peerCertificate()).isEqualTo(first.certificate());
        RawHttp.Response accepted = postSigned(server, before);
        assertThat(accepted.status()).as("%s", accepted).isEqualTo(200);
        assertThat(accepted.code()).isEqualTo("queued");
        assertThat(accepted.header("X-Request-Id")).isNotBlank();

        // Renewal: both files replaced (each by an atomic rename, as a deploy tool would).
        replace(second.keyFile(), keyFile);
        replace(second.certFile(), certFile);

        Certificate seen = Poll.until("a new connection to present the renewed certificate",
            RELOAD_DEADLINE, () -> {
              try (RawHttp probe = RawHttp.tls(trustsBoth, second.hostname(), server.port())) {
                return probe.peerCertificate();
              } catch (java.io.IOException e) {
                return null; // caught between the two renames: judged by the next poll
              }
            }, second.certificate()::equals);
        assertThat(seen).isEqualTo(second.certificate());

        try (RawHttp after = RawHttp.tls(trustsBoth, second.hostname(), server.port())) {
          RawHttp.Response overNew = postSigned(server, after);
          assertThat(overNew.status()).as("%s", overNew).isEqualTo(200);
        }
        // A client that only trusts the old certificate can no longer connect anew.
        assertThat(handshakeFails(trustsFirstOnly, first.hostname(), server.port())).isTrue();

        // The connection opened before the renewal still works, with the session it had.
        RawHttp.Response overOld = postSigned(server, before);
        assertThat(overOld.status()).as("%s", overOld).isEqualTo(200);
        assertThat(before.peerCertificate()).isEqualTo(first.certificate());
      }
      assertThat(server.health()).isEqualTo(200);
    }
  }

  @Test
  void plainHttpOnTheTlsPortGetsNoWebhookThrough() throws Exception {
    Certificates.Pair pair = Certificates.generate(dir, "only");
    try (HardenedServer server = HardenedServer.start(dir, Map.of(
        "WEBHOOKD_HTTP_TLS_CERT_FILE", pair.certFile().toString(),
        "WEBHOOKD_HTTP_TLS_KEY_FILE", pair.keyFile().toString()))) {
      byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
      try (RawHttp plain = RawHttp.plain(server.port())) {
        boolean answered200;
        try {
          answered200 = plain.post(IngestVerticle.PATH, body,
              Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body))).status() == 200;
        } catch (java.io.IOException e) {
          answered200 = false; // the TLS listener drops a plain-text client: fine
        }
        assertThat(answered200).isFalse();
      }
      assertThat(server.query("SELECT count(*) AS n FROM inbox_events").get(0).get("n")).isEqualTo(0);
    }
  }

  /**
   * A renewal caught half-way (the key replaced, the certificate not yet) must not leave the
   * listener with a key that does not match its certificate: every new handshake would fail until
   * the next check. The listener keeps the previous pair until the files match again.
   */
  @Test
  void aHalfWrittenRenewalNeverBreaksNewHandshakes() throws Exception {
    Certificates.Pair first = Certificates.generate(dir, "first");
    Path certFile = dir.resolve("tls.crt");
    Path keyFile = dir.resolve("tls.key");
    Files.copy(first.certFile(), certFile);
    Files.copy(first.keyFile(), keyFile);
    try (LogCapture log = LogCapture.of("io.webhookd.ingest.TlsCertificates");
         HardenedServer server = HardenedServer.start(dir, Map.of(
             "WEBHOOKD_HTTP_TLS_CERT_FILE", certFile.toString(),
             "WEBHOOKD_HTTP_TLS_KEY_FILE", keyFile.toString()))) {
      Certificates.Pair second = Certificates.generate(dir, "second");
      SSLContext trustsBoth = Certificates.trusting(first.certificate(), second.certificate());

      replace(second.keyFile(), keyFile);
      Poll.until("the listener to look at the changed key file", RELOAD_DEADLINE,
          () -> log.events().size(), n -> n > 0);

      try (RawHttp fresh = RawHttp.tls(trustsBoth, first.hostname(), server.port())) {
        assertThat(fresh.peerCertificate()).isEqualTo(first.certificate());
        RawHttp.Response accepted = postSigned(server, fresh);
        assertThat(accepted.status()).as("%s", accepted).isEqualTo(200);
      }

      replace(second.certFile(), certFile);
      Certificate seen = Poll.until("the completed renewal to be served", RELOAD_DEADLINE, () -> {
        try (RawHttp probe = RawHttp.tls(trustsBoth, second.hostname(), server.port())) {
          return probe.peerCertificate();
        } catch (java.io.IOException e) {
          return null;
        }
      }, second.certificate()::equals);
      assertThat(seen).isEqualTo(second.certificate());
    }
  }

  private static RawHttp.Response postSigned(HardenedServer server, RawHttp connection) throws Exception {
    byte[] body = HardenedServer.newEventBody(HardenedServer.newEventId());
    return connection.post(IngestVerticle.PATH, body, Map.of(TestSigner.OPENPHONE_HEADER, server.sign(body)));
  }

  private static boolean handshakeFails(SSLContext context, String hostname, int port) throws Exception {
    try (RawHttp ignored = RawHttp.tls(context, hostname, port)) {
      return false;
    } catch (SSLHandshakeException e) {
      return true;
    }
  }

  private static void replace(Path source, Path target) throws Exception {
    Path staged = target.resolveSibling(target.getFileName() + ".new");
    Files.copy(source, staged, StandardCopyOption.REPLACE_EXISTING);
    Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
