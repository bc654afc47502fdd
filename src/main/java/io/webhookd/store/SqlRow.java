package io.webhookd.store;

import java.util.Map;

/** One result row, by lower-case column name, with the adapters' number types made alike. */
public record SqlRow(Map<String, Object> columns) {

  public String string(String column) {
    Object value = columns.get(column);
    return value == null ? null : value.toString();
  }

  public Long longValue(String column) {
    Object value = columns.get(column);
    return value == null ? null : ((Number) value).longValue();
  }

  public Integer intValue(String column) {
    Object value = columns.get(column);
    return value == null ? null : ((Number) value).intValue();
  }

  public byte[] bytes(String column) {
    Object value = columns.get(column);
    return value instanceof io.vertx.core.buffer.Buffer buffer ? buffer.getBytes() : (byte[]) value;
  }
}
