package io.webhookd.event;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Lower-case hex SHA-256, the identity of bodies and of events that carry no id. */
public final class ContentHash {

  private ContentHash() {
  }

  public static String of(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  /** Of several fields, each followed by a NUL so that ("ab","c") and ("a","bc") differ. */
  public static String ofFields(String... fields) {
    MessageDigest sha = digest();
    for (String field : fields) {
      sha.update(String.valueOf(field).getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
