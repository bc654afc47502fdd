package io.webhookd.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Query results as plain maps, for assertions on what a store holds, whichever database it is. */
public final class Rows {

  private Rows() {
  }

  /**
   * Runs {@code sql} with {@code params} on {@code connection}; rows by lower-case column name, in
   * order. A query that fails (or hangs past 10 s) fails the test with the statement in the message.
   */
  public static List<Map<String, Object>> query(Connection connection, String sql, Object... params) {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setQueryTimeout(10);
      for (int i = 0; i < params.length; i++) {
        statement.setObject(i + 1, params[i]);
      }
      List<Map<String, Object>> rows = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        ResultSetMetaData meta = rs.getMetaData();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= meta.getColumnCount(); i++) {
            row.put(meta.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
          }
          rows.add(row);
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + sql, e);
    }
  }
}
