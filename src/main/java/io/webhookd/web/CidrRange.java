package io.webhookd.web;

import io.netty.util.NetUtil;
import java.util.Arrays;

/** An IPv4 or IPv6 network such as {@code 10.0.0.0/8} or {@code fd00::/8}; a bare address is /32 or /128. */
public record CidrRange(byte[] network, int prefixLength) {

  /** @throws IllegalArgumentException when the text is not a network in CIDR notation */
  public static CidrRange parse(String text) {
    String trimmed = text.trim();
    int slash = trimmed.indexOf('/');
    String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
    byte[] bytes = literal(address);
    if (bytes == null) {
      throw new IllegalArgumentException("\"" + text + "\" is not an IP network (e.g. 10.0.0.0/8)");
    }
    int prefix = bytes.length * 8;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(trimmed.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("\"" + text + "\" has no valid prefix length");
      }
      if (prefix < 0 || prefix > bytes.length * 8) {
        throw new IllegalArgumentException("\"" + text + "\" has a prefix length outside 0.." + bytes.length * 8);
      }
    }
    return new CidrRange(bytes, prefix);
  }

  /** Whether the textual address (as Vert.x reports a peer) is in this network. */
  public boolean contains(String address) {
    byte[] candidate = literal(address);
    if (candidate == null || candidate.length != network.length) {
      return false;
    }
    int fullBytes = prefixLength / 8;
    for (int i = 0; i < fullBytes; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (candidate[fullBytes] & mask) == (network[fullBytes] & mask);
  }

  /**
   * The bytes of an IP literal (an IPv6 one may be bracketed or carry a zone); null for anything
   * else, never a name lookup. Called for every request, so no regular expressions.
   */
  static byte[] literal(String address) {
    byte[] bytes = address == null ? null : NetUtil.createByteArrayFromIpAddressString(address);
    return bytes != null && ipv4Mapped(bytes) ? Arrays.copyOfRange(bytes, 12, 16) : bytes;
  }

  /** {@code ::ffff:a.b.c.d} is the IPv4 address a.b.c.d, as the JDK reads it. */
  private static boolean ipv4Mapped(byte[] bytes) {
    if (bytes.length != 16 || bytes[10] != (byte) 0xff || bytes[11] != (byte) 0xff) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
