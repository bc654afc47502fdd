package io.webhookd.observe;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on a free loopback port in front of a service (PostgreSQL here), which the test can
 * switch off and on: {@link #down()} resets every open connection and resets new ones as soon as
 * they arrive (the service is gone: connections refused, at once); {@link #up()} forwards again.
 * One pair of plain daemon threads per forwarded connection.
 */
final class SwitchableProxy implements AutoCloseable {

  private final String targetHost;
  private final int targetPort;
  private final ServerSocket listener;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean down;
  private volatile boolean closed;

  private SwitchableProxy(String targetHost, int targetPort) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    try {
      listener = new ServerSocket();
      listener.setReuseAddress(true);
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread acceptor = new Thread(this::acceptLoop, "observe-proxy-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  static SwitchableProxy to(String host, int port) {
    return new SwitchableProxy(host, port);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Resets every connection now and every new one until {@link #up()}. */
  synchronized void down() {
    down = true;
    open.forEach(SwitchableProxy::reset);
    open.clear();
  }

  synchronized void up() {
    down = false;
  }

  @Override
  public synchronized void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    open.forEach(SwitchableProxy::reset);
    open.clear();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        forward(listener.accept());
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private synchronized void forward(Socket client) {
    if (down || closed) {
      reset(client);
      return;
    }
    Socket upstream = new Socket();
    try {
      upstream.connect(new InetSocketAddress(targetHost, targetPort), 2_000);
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
    } catch (IOException e) {
      reset(client);
      reset(upstream);
      return;
    }
    open.add(client);
    open.add(upstream);
    pump(client, upstream);
    pump(upstream, client);
  }

  private void pump(Socket from, Socket to) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // the connection ended
      } finally {
        reset(from);
        reset(to);
        open.remove(from);
        open.remove(to);
      }
    }, "observe-proxy-" + port() + "-pump");
    thread.setDaemon(true);
    thread.start();
  }

  /** Closes with RST, as a vanished peer looks to the other end. */
  private static void reset(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // already closed
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing more to do
    }
  }
}
