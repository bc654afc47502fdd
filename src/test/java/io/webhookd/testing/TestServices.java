package io.webhookd.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real PostgreSQL and Redis that tests talk to, on their standard local ports unless
 * {@code WEBHOOKD_TEST_PG_URL} / {@code WEBHOOKD_TEST_REDIS_URL} say otherwise. A missing service
 * fails the test under {@code CI=true}; elsewhere the test is skipped with a loud message.
 */
public final class TestServices {

  public static final String PG_URL = envOr("WEBHOOKD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/webhookd_test");
  public static final String REDIS_URL = envOr("WEBHOOKD_TEST_REDIS_URL", "redis://127.0.0.1:6379");

  private static volatile boolean pgReady;

  private TestServices() {
  }

  /** The PostgreSQL URL, its database created if missing; fails or skips when unreachable. */
  public static String postgres() {
    if (!pgReady) {
      synchronized (TestServices.class) {
        if (!pgReady) {
          try {
            createDatabaseIfMissing();
            pgReady = true;
          } catch (SQLException e) {
            missing("PostgreSQL at " + PG_URL, e);
          }
        }
      }
    }
    return PG_URL;
  }

  /** The Redis URL; fails or skips when nothing answers PING there. */
  public static String redis() {
    URI uri = URI.create(REDIS_URL);
    try (var socket = new Socket()) {
      socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort()), 2000);
      socket.setSoTimeout(2000);
      socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] answer = new byte[7];
      int n = socket.getInputStream().read(answer);
      if (n < 5 || !new String(answer, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG")) {
        throw new IOException("unexpected answer to PING");
      }
    } catch (IOException e) {
      missing("Redis at " + REDIS_URL, e);
    }
    return REDIS_URL;
  }

  /** A JDBC connection to the test database, for assertions on what the service stored. */
  public static Connection jdbc() throws SQLException {
    Jdbc target = Jdbc.of(postgres());
    return DriverManager.getConnection(target.url(), target.user(), target.password());
  }

  /** Empties the service's tables so that a test starts from nothing; the schema stays. */
  public static void truncateAll() throws SQLException {
    try (Connection c = jdbc()) {
      truncateAll(c);
    }
  }

  /** Empties every table but Flyway's in the database {@code c} is connected to. */
  static void truncateAll(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
             + " AND tablename <> 'flyway_schema_history'")) {
      StringBuilder tables = new StringBuilder();
      while (rs.next()) {
        tables.append(tables.length() == 0 ? "" : ", ").append('"').append(rs.getString(1)).append('"');
      }
      if (tables.length() > 0) {
        try (Statement truncate = c.createStatement()) {
          truncate.execute("TRUNCATE " + tables + " RESTART IDENTITY CASCADE");
        }
      }
    }
  }

  private static void createDatabaseIfMissing() throws SQLException {
    Jdbc target = Jdbc.of(PG_URL);
    String admin = target.url().substring(0, target.url().lastIndexOf('/') + 1) + "postgres";
    try (Connection c = DriverManager.getConnection(admin, target.user(), target.password());
         Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + target.database() + "'")) {
        if (rs.next()) {
          return;
        }
      }
      try {
        s.execute("CREATE DATABASE \"" + target.database() + "\"");
      } catch (SQLException e) {
        if (!"42P04".equals(e.getSQLState())) { // created meanwhile by a parallel run
          throw e;
        }
      }
    }
  }

  private static void missing(String what, Exception cause) {
    String message = "*** " + what + " is not reachable (" + cause.getMessage() + "): start it, or set "
        + "WEBHOOKD_TEST_PG_URL / WEBHOOKD_TEST_REDIS_URL. ***";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail(message, cause);
    }
    System.err.println(message + " Skipping this test.");
    Assumptions.abort(message);
  }

  private static String envOr(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  /** A {@code postgresql://} URL in JDBC terms. */
  record Jdbc(String url, String user, String password, String host, int port, String database) {
    static Jdbc of(String postgresUrl) {
      URI uri = URI.create(postgresUrl.replaceFirst("^postgres(ql)?://", "http://"));
      String user = null;
      String password = null;
      if (uri.getUserInfo() != null) {
        String[] parts = uri.getUserInfo().split(":", 2);
        user = parts[0];
        password = parts.length > 1 ? parts[1] : null;
      }
      String database = uri.getPath().replaceFirst("^/", "");
      int port = uri.getPort() < 0 ? 5432 : uri.getPort();
      return new Jdbc("jdbc:postgresql://" + uri.getHost() + ":" + port + "/" + database, user, password,
          uri.getHost(), port, database);
    }
  }
}
