package io.webhookd.observe;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * One {@code /metrics} answer in the Prometheus text format, parsed into samples, so that tests
 * compare series by name and labels rather than by matching text.
 */
final class Scrape {

  /** One sample line: {@code name{labels} value}. Labels are sorted by name. */
  record Sample(String name, Map<String, String> labels, double value) {
  }

  private final String text;
  private final List<Sample> samples;
  private final Map<String, String> types;

  private Scrape(String text, List<Sample> samples, Map<String, String> types) {
    this.text = text;
    this.samples = samples;
    this.types = types;
  }

  static Scrape parse(String text) {
    List<Sample> samples = new ArrayList<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("#")) {
        String[] parts = line.split(" ", 4);
        if (parts.length >= 4 && parts[1].equals("TYPE")) {
          types.put(parts[2], parts[3].trim());
        }
        continue;
      }
      samples.add(sample(line));
    }
    return new Scrape(text, List.copyOf(samples), types);
  }

  String text() {
    return text;
  }

  List<Sample> samples() {
    return samples;
  }

  /** The {@code # TYPE} of a metric family, or null. */
  String type(String family) {
    return types.get(family);
  }

  /** Every metric name (sample name) present. */
  List<String> names() {
    return samples.stream().map(Sample::name).distinct().sorted().toList();
  }

  boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name().equals(name));
  }

  /**
   * Every series of {@code name}, keyed by its labels written {@code k=v,k=v} (sorted; only the
   * labels named in {@code keys}, so a test states which labels it cares about and still sees every
   * series), with their values summed when several series share those labels.
   */
  Map<String, Double> series(String name, String... keys) {
    Map<String, Double> out = new TreeMap<>();
    for (Sample sample : samples) {
      if (!sample.name().equals(name)) {
        continue;
      }
      String key = List.of(keys).stream().sorted()
          .map(k -> k + "=" + sample.labels().getOrDefault(k, ""))
          .collect(Collectors.joining(","));
      out.merge(key, sample.value(), Double::sum);
    }
    return out;
  }

  /** The value of the one series of {@code name} whose labels include {@code labels}; null when none. */
  Double value(String name, Map<String, String> labels) {
    List<Sample> matching = samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
        .toList();
    if (matching.size() > 1) {
      throw new AssertionError("more than one series of " + name + " with " + labels + ": " + matching);
    }
    return matching.isEmpty() ? null : matching.get(0).value();
  }

  /** The value of the one series of {@code name}, or null. */
  Double value(String name) {
    return value(name, Map.of());
  }

  /** The sum over every series of {@code name} whose labels include {@code labels}; 0 when none. */
  double sum(String name, Map<String, String> labels) {
    return samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
        .mapToDouble(Sample::value).sum();
  }

  double sum(String name) {
    return sum(name, Map.of());
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    String name;
    Map<String, String> labels = new TreeMap<>();
    int rest;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.substring(0, brace);
      int i = brace + 1;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq).trim();
        if (line.charAt(eq + 1) != '"') {
          throw new IllegalArgumentException("unquoted label value in: " + line);
        }
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        for (; line.charAt(j) != '"'; j++) {
          char c = line.charAt(j);
          if (c == '\\') {
            char next = line.charAt(++j);
            value.append(next == 'n' ? '\n' : next);
          } else {
            value.append(c);
          }
        }
        labels.put(key, value.toString());
        i = j + 1;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      rest = i + 1;
    } else {
      name = line.substring(0, space);
      rest = space;
    }
    String[] valueAndTime = line.substring(rest).trim().split("\\s+");
    return new Sample(name, Map.copyOf(labels), parseValue(valueAndTime[0]));
  }

  private static double parseValue(String text) {
    return switch (text) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(text);
    };
  }
}
