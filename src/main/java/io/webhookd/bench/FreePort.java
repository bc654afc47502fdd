package io.webhookd.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints free TCP ports on 127.0.0.1, one a line ({@code FreePort [count]}): the operating system
 * picks them, so two benchmark runs (or a benchmark and a test) on one machine do not collide.
 */
public final class FreePort {

  private FreePort() {
  }

  public static void main(String[] args) throws IOException {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    List<ServerSocket> held = new ArrayList<>();
    try {
      // Hold every socket until all are chosen, so the ports printed are distinct.
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        held.add(socket);
      }
      for (ServerSocket socket : held) {
        System.out.println(socket.getLocalPort());
      }
    } finally {
      for (ServerSocket socket : held) {
        socket.close();
      }
    }
  }
}
