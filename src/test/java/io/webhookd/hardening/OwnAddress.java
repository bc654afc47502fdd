package io.webhookd.hardening;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketException;
import java.util.Collections;
import java.util.Comparator;
import java.util.Optional;

/**
 * This machine's own non-loopback address, to reach a local listener from an address that is not
 * loopback. Traffic to it never leaves the machine (the kernel delivers it locally), so tests may
 * use it like 127.0.0.1.
 */
final class OwnAddress {

  private OwnAddress() {
  }

  /** An address of an interface that is up, neither loopback nor link-local, that a socket can bind; IPv4 first. */
  static Optional<InetAddress> find() {
    try {
      return Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
          .filter(OwnAddress::usable)
          .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
          .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress()
              && !a.isMulticastAddress())
          .filter(a -> a instanceof Inet4Address || a instanceof Inet6Address)
          .sorted(Comparator.comparing(a -> a instanceof Inet4Address ? 0 : 1))
          .filter(OwnAddress::bindable)
          .findFirst();
    } catch (SocketException e) {
      return Optional.empty();
    }
  }

  private static boolean usable(NetworkInterface i) {
    try {
      return i.isUp() && !i.isLoopback();
    } catch (SocketException e) {
      return false;
    }
  }

  private static boolean bindable(InetAddress address) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(address, 0));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The address as a one-host CIDR network. */
  static String hostNetwork(InetAddress address) {
    return address.getHostAddress().replaceFirst("%.*$", "") + (address instanceof Inet4Address ? "/32" : "/128");
  }
}
