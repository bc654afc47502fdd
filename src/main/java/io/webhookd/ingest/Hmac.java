package io.webhookd.ingest;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256 over several parts, with one {@link Mac} per thread (Mac is not thread-safe). */
final class Hmac {

  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  });

  private Hmac() {
  }

  static byte[] sha256(byte[] key, byte[]... parts) {
    Mac mac = MAC.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC key rejected", e);
    }
    for (byte[] part : parts) {
      mac.update(part);
    }
    return mac.doFinal();
  }

  /** Constant-time for equal lengths; the length of a digest is no secret. */
  static boolean matches(byte[] expected, byte[] presented) {
    return presented != null && MessageDigest.isEqual(expected, presented);
  }
}
