package io.webhookd.hardening;

import io.vertx.core.json.JsonObject;
import io.webhookd.testing.JsonAnswer;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One HTTP/1.1 connection written by hand: the test decides what goes on the wire byte for byte
 * (hostile requests, trickled bodies, lying lengths) and which requests share a connection
 * (keep-alive, connection caps). Plain TCP or TLS.
 */
final class RawHttp implements AutoCloseable {

  /** How long a read waits for the server before the test gives up on an answer. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

  /** One answer as it came over the wire. */
  record Response(String version, int status, Map<String, List<String>> headers, byte[] body) {

    /** The first value of a header (name case-insensitive), or null. */
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonObject json() {
      return JsonAnswer.parse(status, text(), this);
    }

    /** {@code error} of an error body, {@code status} of a success body. */
    String code() {
      return JsonAnswer.code(json());
    }

    @Override
    public String toString() {
      String shown = text();
      return version + " " + status + " " + headers + " " + (shown.length() > 300 ? shown.substring(0, 300) + "..." : shown);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
    socket.setTcpNoDelay(true);
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Plain TCP to 127.0.0.1. */
  static RawHttp plain(int port) throws IOException {
    return plain(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port, null);
  }

  /** Plain TCP to {@code host}, optionally from a chosen local address (e.g. 127.0.0.2). */
  static RawHttp plain(InetAddress host, int port, InetAddress from) throws IOException {
    Socket socket = new Socket();
    if (from != null) {
      socket.bind(new InetSocketAddress(from, 0));
    }
    socket.connect(new InetSocketAddress(host, port), 5_000);
    return new RawHttp(socket);
  }

  /**
   * TLS to 127.0.0.1 with the given trust; the handshake is done here. When {@code hostname} is
   * given it is sent as SNI and checked against the certificate (HTTPS endpoint identification).
   */
  static RawHttp tls(SSLContext context, String hostname, int port) throws IOException {
    return tls(context, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), hostname, port);
  }

  /** As {@link #tls(SSLContext, String, int)}, to {@code address}. */
  static RawHttp tls(SSLContext context, InetAddress address, String hostname, int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(address, port), 5_000);
    SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, hostname, port, true);
    SSLParameters parameters = tls.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    tls.setSSLParameters(parameters);
    tls.setSoTimeout((int) READ_TIMEOUT.toMillis());
    tls.startHandshake();
    return new RawHttp(tls);
  }

  /** The server's certificate on this TLS connection. */
  Certificate peerCertificate() throws IOException {
    return ((SSLSocket) socket).getSession().getPeerCertificates()[0];
  }

  Socket socket() {
    return socket;
  }

  /** A well-formed request; {@code Host} and {@code Content-Length} (when there is a body) are added. */
  Response send(String method, String target, Map<String, String> headers, byte[] body) throws IOException {
    StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    Map<String, String> all = new LinkedHashMap<>(headers);
    if (body != null) {
      all.putIfAbsent("Content-Length", Integer.toString(body.length));
    }
    all.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    head.append("\r\n");
    write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      write(body);
    }
    return read();
  }

  Response post(String target, byte[] body, Map<String, String> headers) throws IOException {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("Content-Type", "application/json");
    all.putAll(headers);
    return send("POST", target, all, body);
  }

  Response get(String target) throws IOException {
    return send("GET", target, Map.of(), null);
  }

  void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Reads one answer (skipping interim 1xx answers). */
  Response read() throws IOException {
    while (true) {
      Response response = readOne();
      if (response.status() >= 200 || response.status() == 101) {
        return response;
      }
    }
  }

  private Response readOne() throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new EOFException("the server closed the connection without an answer");
    }
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      throw new IOException("not an HTTP status line: " + statusLine);
    }
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String header = line(); header != null && !header.isEmpty(); header = line()) {
      int colon = header.indexOf(':');
      headers.computeIfAbsent(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(header.substring(colon + 1).trim());
    }
    int status = Integer.parseInt(parts[1]);
    byte[] body;
    List<String> length = headers.get("content-length");
    List<String> encoding = headers.get("transfer-encoding");
    if (status < 200 || status == 204 || status == 304) {
      body = new byte[0];
    } else if (encoding != null && encoding.get(0).toLowerCase(Locale.ROOT).contains("chunked")) {
      body = chunked();
    } else if (length != null) {
      body = in.readNBytes(Integer.parseInt(length.get(0)));
    } else {
      body = in.readAllBytes();
    }
    return new Response(parts[0], status, headers, body);
  }

  private byte[] chunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line();
      int n = Integer.parseInt(size.split(";")[0].trim(), 16);
      if (n == 0) {
        while (true) {
          String trailer = line();
          if (trailer == null || trailer.isEmpty()) {
            return body.toByteArray();
          }
        }
      }
      body.write(in.readNBytes(n));
      line();
    }
  }

  /** One CRLF-terminated line (ISO-8859-1), or null at the end of the stream. */
  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
      }
      if (b == '\n') {
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
      }
      line.write(b);
    }
  }

  /**
   * Waits up to {@code timeout} for the server to close the connection: true when it did (end of
   * stream or reset), false when the connection was still open at the deadline. Bytes the server
   * sends meanwhile are discarded.
   */
  boolean closedByServerWithin(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // reset by the server
    } finally {
      if (!socket.isClosed()) {
        socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
