package io.webhookd.fuzz;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A fuzzed request, read the way an HTTP/1.1 head is: header lines up to the first empty line,
 * each {@code name: value} (name and value trimmed, as the HTTP decoder hands them over; a line
 * without a colon is skipped), then the body, byte for byte. Bytes are read as ISO-8859-1, as the
 * decoder reads a head, so any byte the fuzzer chooses reaches the parsers. Seeds stay readable
 * text files.
 */
record FuzzInput(MultiMap headers, byte[] body) {

  static FuzzInput parse(byte[] input) {
    int split = indexOf(input, new byte[] {'\n', '\n'});
    byte[] head = split < 0 ? input : Arrays.copyOfRange(input, 0, split);
    byte[] body = split < 0 ? new byte[0] : Arrays.copyOfRange(input, split + 2, input.length);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (String line : new String(head, StandardCharsets.ISO_8859_1).split("\n")) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).trim();
      if (!name.isEmpty()) {
        headers.add(name, line.substring(colon + 1).trim());
      }
    }
    return new FuzzInput(headers, body);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    headers.forEach(h -> text.append(h.getKey()).append(": ").append(h.getValue()).append("\\n"));
    byte[] head = Arrays.copyOf(body, Math.min(body.length, 300));
    return text + "\\n" + new String(head, StandardCharsets.ISO_8859_1)
        + (body.length > 300 ? "...(" + body.length + " bytes)" : "");
  }
}
