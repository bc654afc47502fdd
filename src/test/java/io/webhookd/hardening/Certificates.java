package io.webhookd.hardening;

import io.vertx.core.net.SelfSignedCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates the tests make for themselves: a self-signed EC P-256 certificate for
 * {@code localhost} / {@code 127.0.0.1} with its PKCS#8 key, as PEM files. Made with the
 * {@code openssl} command (tens of milliseconds). Without {@code openssl} on the PATH it falls back
 * to Vert.x's {@link SelfSignedCertificate} (RSA 2048, several seconds each on this kind of machine,
 * subject {@code CN=localhost} without an IP address, so clients must name {@code localhost}).
 */
final class Certificates {

  /** A certificate and its key as PEM files, plus the parsed certificate. */
  record Pair(Path certFile, Path keyFile, X509Certificate certificate, String hostname) {
  }

  private Certificates() {
  }

  static boolean opensslAvailable() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "openssl"))) {
        return true;
      }
    }
    return false;
  }

  /** A fresh pair in {@code dir}, files named {@code <name>.crt} and {@code <name>.key}. */
  static Pair generate(Path dir, String name) throws Exception {
    return generate(dir, name, List.of());
  }

  /** As {@link #generate(Path, String)}, also valid for these IP addresses (openssl only). */
  static Pair generate(Path dir, String name, List<String> moreAddresses) throws Exception {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    if (opensslAvailable()) {
      run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-days", "2", "-subj", "/CN=localhost",
          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"
              + moreAddresses.stream().map(a -> ",IP:" + a).collect(java.util.stream.Collectors.joining()),
          "-keyout", key.toString(), "-out", cert.toString());
      return new Pair(cert, key, parse(Files.readAllBytes(cert)), "127.0.0.1");
    }
    if (!moreAddresses.isEmpty()) {
      throw new IllegalStateException("certificates for " + moreAddresses + " need the openssl command on the PATH");
    }
    SelfSignedCertificate generated = SelfSignedCertificate.create("localhost");
    Files.copy(Path.of(generated.certificatePath()), cert, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(Path.of(generated.privateKeyPath()), key, StandardCopyOption.REPLACE_EXISTING);
    generated.delete();
    return new Pair(cert, key, parse(Files.readAllBytes(cert)), "localhost");
  }

  /** A client context that trusts exactly these certificates. */
  static SSLContext trusting(X509Certificate... certificates) throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    for (int i = 0; i < certificates.length; i++) {
      store.setCertificateEntry("trusted-" + i, certificates[i]);
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  static X509Certificate parse(byte[] pem) throws GeneralSecurityException {
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem));
  }

  private static void run(Path dir, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] output;
    try (InputStream in = process.getInputStream()) {
      output = in.readAllBytes();
    }
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " failed: " + new String(output));
    }
  }
}
