package io.webhookd.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy between a webhookd server (a process, or in the same JVM) and a shared service
 * (PostgreSQL, Redis), so that a chaos scenario or a test can take the service away from the server
 * without touching the service itself. It listens on a free loopback port and forwards every
 * connection to the target, with one pair of plain threads per connection.
 *
 * <ul>
 *   <li>{@link #cut(Mode)} takes the service away, as {@link Mode} describes: refused, blackholed
 *       or frozen.</li>
 *   <li>{@link #restore()} resets whatever was held during the cut (as the service does with a
 *       connection it never saw, once it is reachable again) and forwards new connections again.</li>
 *   <li>{@link #delay(Duration)} makes the service slow rather than gone: every chunk sent to it is
 *       forwarded that much later (a slow network or an overloaded service).</li>
 * </ul>
 */
public final class TcpProxy implements AutoCloseable {

  /** What a cut does to the connections open at the time, and to new ones. */
  public enum Mode {
    /**
     * The service is down: open connections are reset, new ones accepted and reset at once (the
     * client sees its connection refused or reset).
     */
    REFUSE,
    /**
     * The service's host or the network hangs: open connections are reset, new ones accepted and
     * held open without a byte forwarded, until the client gives up.
     */
    BLACKHOLE,
    /**
     * The service hangs mid-conversation: open connections go silent (nothing forwarded either way,
     * nothing closed), new ones are held as with {@link #BLACKHOLE}. {@link #restore()} then resets
     * the silent ones, as a restarted service does.
     */
    FREEZE
  }

  private final String targetHost;
  private final int targetPort;
  private final ServerSocket listener;
  private final Thread acceptor;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Set<Socket> held = ConcurrentHashMap.newKeySet();
  /** The service's ends of the forwarded connections in {@link #open}. */
  private final Set<Socket> upstreams = ConcurrentHashMap.newKeySet();
  /** Client ends of frozen connections left silent for good by {@link #reopenLeavingFrozen()}. */
  private final Set<Socket> forgotten = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile Mode cut;
  private volatile long delayNanos;
  private volatile boolean closed;

  private TcpProxy(String targetHost, int targetPort) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    try {
      listener = new ServerSocket();
      listener.setReuseAddress(true);
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + listener.getLocalPort() + "-accept");
    acceptor.setDaemon(true);
  }

  /** Starts forwarding from a free loopback port to {@code host:port}. */
  public static TcpProxy to(String host, int port) {
    TcpProxy proxy = new TcpProxy(host, port);
    proxy.acceptor.start();
    return proxy;
  }

  /** The loopback port to point the server at. */
  public int port() {
    return listener.getLocalPort();
  }

  /** Connections accepted so far (forwarded, refused or held). */
  public int acceptedConnections() {
    return accepted.get();
  }

  /** Takes the service away as {@code mode} says, until {@link #restore()}. */
  public synchronized void cut(Mode mode) {
    cut = mode;
    if (mode == Mode.FREEZE) {
      return; // the pumps see it and stop forwarding
    }
    resetAll(open);
    upstreams.clear();
  }

  /**
   * After a {@link Mode#FREEZE}: the service comes back having forgotten the frozen connections
   * (it restarted, or failed over to another host), but their clients are never told: the
   * service's end of each is closed (its transactions roll back), while the client's end stays
   * open and silent for good, as behind a stateful firewall or NAT that lost their state. Only the
   * client giving up on them ends them. New connections are forwarded again.
   */
  public synchronized void reopenLeavingFrozen() {
    if (cut != Mode.FREEZE) {
      throw new IllegalStateException("not frozen: " + cut);
    }
    for (Socket socket : open) {
      if (!upstreams.contains(socket)) {
        forgotten.add(socket);
      }
    }
    for (Socket socket : open) {
      if (upstreams.contains(socket)) {
        reset(socket);
      }
    }
    open.clear();
    upstreams.clear();
    cut = null;
    resetAll(held);
  }

  /** From now on, forwards every chunk sent to the target {@code latency} late; zero for no delay. */
  public void delay(Duration latency) {
    delayNanos = latency.toNanos();
  }

  /** Resets the connections held during the cut and forwards new connections again. */
  public synchronized void restore() {
    if (cut == Mode.FREEZE) {
      resetAll(open);
      upstreams.clear();
    }
    cut = null;
    resetAll(held);
    notifyAll();
  }

  @Override
  public synchronized void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    resetAll(open);
    resetAll(held);
    resetAll(forgotten);
    notifyAll();
  }

  @Override
  public String toString() {
    return "TcpProxy[127.0.0.1:" + port() + " -> " + targetHost + ":" + targetPort
        + (cut == null ? "" : ", cut: " + cut) + "]";
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      accepted.incrementAndGet();
      handle(client);
    }
  }

  private synchronized void handle(Socket client) {
    Mode mode = cut;
    if (closed || mode == Mode.REFUSE) {
      reset(client);
      return;
    }
    if (mode == Mode.BLACKHOLE || mode == Mode.FREEZE) {
      held.add(client);
      return;
    }
    Socket upstream = new Socket();
    try {
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      upstream.connect(new InetSocketAddress(targetHost, targetPort), 2_000);
    } catch (IOException e) {
      reset(client);
      reset(upstream);
      return;
    }
    open.add(client);
    open.add(upstream);
    upstreams.add(upstream);
    pump(client, upstream, "up", true);
    pump(upstream, client, "down", false);
  }

  /** Copies {@code from} to {@code to} until either ends; then ends both. */
  private void pump(Socket from, Socket to, String direction, boolean delayed) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      // Not try-with-resources: closing a socket's stream closes the socket, and a forgotten
      // client end must stay open.
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (!awaitNotFrozen(from)) {
            return;
          }
          long latency = delayNanos;
          if (delayed && latency > 0) {
            LockSupport.parkNanos(latency); // the simulated latency, not a synchronisation
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException ignored) {
        // the connection ended, one way or another
      } finally {
        // A forgotten client end stays open and silent: nobody tells the client.
        if (!forgotten.contains(from)) {
          closeQuietly(from);
        }
        if (!forgotten.contains(to)) {
          closeQuietly(to);
        }
        open.remove(from);
        open.remove(to);
        upstreams.remove(from);
        upstreams.remove(to);
      }
    }, "tcp-proxy-" + port() + "-" + direction);
    thread.setDaemon(true);
    thread.start();
  }

  /** While a freeze lasts, holds the data read; false when the connection was reset meanwhile. */
  private synchronized boolean awaitNotFrozen(Socket from) throws IOException {
    while ((cut == Mode.FREEZE || forgotten.contains(from)) && !from.isClosed() && !closed) {
      try {
        wait(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    return !from.isClosed() && !closed;
  }

  private static void resetAll(Set<Socket> sockets) {
    for (Socket socket : sockets) {
      reset(socket);
    }
    sockets.clear();
  }

  /** Closes with RST rather than FIN, as a vanished peer or a broken path looks to the other end. */
  private static void reset(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // already closed
    }
    closeQuietly(socket);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing more to do
    }
  }
}
