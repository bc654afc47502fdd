package io.webhookd.ingest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.webhookd.config.Settings;
import io.webhookd.web.FileChangeWatcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
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
  private Vertx vertx;

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
    this.vertx = vertx;
    watcher = new FileChangeWatcher(vertx, List.of(settings.tlsCertFile(), settings.tlsKeyFile()), this::reload);
    return watcher.start(CHECK_EVERY_MILLIS);
  }

  public void stop() {
    if (watcher != null) {
      watcher.stop();
    }
  }

  /**
   * A renewal writes two files, one after the other: until the key matches the certificate, the
   * pair in use stays (a mismatched pair would break every new handshake).
   */
  Future<Void> reload() {
    return vertx.executeBlocking(() -> keyMatchesCertificate(settings.tlsCertFile(), settings.tlsKeyFile()))
        .otherwise(false)
        .compose(match -> {
          if (!match) {
            LOG.warn("TLS key does not match the certificate (a renewal half written?): keeping the pair in use");
            return Future.succeededFuture();
          }
          return swap();
        });
  }

  /** Forced: the paths are the same, the contents are new. */
  private Future<Void> swap() {
    List<Future<Boolean>> updates = servers.stream()
        .map(server -> server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert()), true))
        .toList();
    return Future.all(updates)
        .onSuccess(v -> LOG.info("TLS certificate reloaded from {}", settings.tlsCertFile()))
        .onFailure(e -> LOG.error("TLS certificate could not be reloaded, keeping the previous one: {}", e.getMessage()))
        .mapEmpty();
  }

  /**
   * Signs a nonce with the key and verifies it with the certificate. A key in a form this check
   * cannot read (anything but PKCS#8) is given the benefit of the doubt; Vert.x reads it.
   */
  static boolean keyMatchesCertificate(String certFile, String keyFile) throws Exception {
    X509Certificate certificate;
    try (var in = Files.newInputStream(Path.of(certFile))) {
      certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    String pem = Files.readString(Path.of(keyFile));
    if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
      return true;
    }
    String base64 = pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY-----") + 27, pem.indexOf("-----END PRIVATE KEY-----"));
    String algorithm = certificate.getPublicKey().getAlgorithm();
    PrivateKey key = KeyFactory.getInstance(algorithm)
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(base64)));
    Signature signature = Signature.getInstance("SHA256with" + ("EC".equals(algorithm) ? "ECDSA" : algorithm));
    byte[] nonce = {1, 2, 3, 4};
    signature.initSign(key);
    signature.update(nonce);
    byte[] signed = signature.sign();
    signature.initVerify(certificate.getPublicKey());
    signature.update(nonce);
    return signature.verify(signed);
  }
}
