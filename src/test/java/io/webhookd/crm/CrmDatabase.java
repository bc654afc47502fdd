package io.webhookd.crm;

import io.webhookd.testing.TestServices;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A PostgreSQL database of the CRM tests' own, on the server of {@link TestServices#postgres()} (so a
 * missing server skips, or under CI fails, the tests as everywhere else). The shared
 * {@code webhookd_test} database is emptied by other suites ({@code TestServices.truncateAll()}) that
 * may run at the same time on a shared machine; a truncation in the middle of a scenario would look
 * like lost texts. {@link #truncateAll()} empties this one the same way before each test; the service
 * under test migrates it on its first start; {@link #close()} drops it.
 */
final class CrmDatabase implements AutoCloseable {

  private final String user;
  private final String password;
  private final String jdbcUrl;
  private final String url;
  private final String name;

  private CrmDatabase(String user, String password, String host, int port, String name) {
    this.user = user;
    this.password = password;
    this.name = name;
    this.jdbcUrl = "jdbc:postgresql://" + host + ":" + port + "/" + name;
    String credentials = user == null ? "" : user + (password == null ? "" : ":" + password) + "@";
    this.url = "postgresql://" + credentials + host + ":" + port + "/" + name;
  }

  static CrmDatabase create() throws SQLException {
    URI uri = URI.create(TestServices.postgres().replaceFirst("^postgres(ql)?://", "http://"));
    String user = null;
    String password = null;
    if (uri.getUserInfo() != null) {
      String[] parts = uri.getUserInfo().split(":", 2);
      user = parts[0];
      password = parts.length > 1 ? parts[1] : null;
    }
    String name = "webhookd_crm_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    }
    return new CrmDatabase(user, password, uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), name);
  }

  /** For {@code WEBHOOKD_PG_URL} and {@code pg.url}. */
  String url() {
    return url;
  }

  Connection jdbc() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }

  /** Empties every table but Flyway's, as {@code TestServices.truncateAll()} does for the shared database. */
  void truncateAll() throws SQLException {
    try (Connection c = jdbc(); Statement s = c.createStatement();
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

  @Override
  public void close() throws SQLException {
    try (Connection c = TestServices.jdbc(); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    }
  }
}
