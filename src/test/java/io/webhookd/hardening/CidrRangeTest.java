package io.webhookd.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.webhookd.web.CidrRange;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link CidrRange}: what the trusted-proxy setting and the loopback check rest on. */
class CidrRangeTest {

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource({
      // IPv4
      "10.0.0.0/8, 10.0.0.0, true",
      "10.0.0.0/8, 10.255.255.255, true",
      "10.0.0.0/8, 11.0.0.0, false",
      "10.0.0.0/8, 9.255.255.255, false",
      "10.1.2.3/8, 10.200.0.1, true",            // host bits of the network are ignored
      "10.0.0.0/7, 11.9.9.9, true",              // a prefix off the byte boundary
      "10.0.0.0/7, 12.0.0.0, false",
      "192.0.2.128/25, 192.0.2.128, true",
      "192.0.2.128/25, 192.0.2.127, false",
      "192.0.2.6/31, 192.0.2.7, true",
      "192.0.2.6/31, 192.0.2.8, false",
      "192.0.2.7/32, 192.0.2.7, true",
      "192.0.2.7/32, 192.0.2.6, false",
      "192.0.2.7, 192.0.2.7, true",              // a bare address is /32
      "192.0.2.7, 192.0.2.70, false",
      "0.0.0.0/0, 203.0.113.1, true",
      "0.0.0.0/0, 255.255.255.255, true",
      "128.0.0.0/1, 127.255.255.255, false",
      "128.0.0.0/1, 128.0.0.0, true",
      "127.0.0.0/8, 127.42.0.9, true",
      // IPv6
      "2001:db8::/32, 2001:db8::1, true",
      "2001:db8::/32, 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff, true",
      "2001:db8::/32, 2001:db9::, false",
      "2001:db8::/33, 2001:db8:8000::, false",
      "2001:db8::/33, 2001:db8:7fff::, true",
      "::1, ::1, true",
      "::1, ::2, false",
      "::1/128, 0:0:0:0:0:0:0:1, true",          // another spelling of the same address
      "::/0, 2001:db8::1, true",
      "fd00::/8, fdff::1, true",
      "fd00::/8, fe00::1, false",
      "[2001:db8::]/32, 2001:db8::7, true",      // brackets
      "2001:db8::/32, [2001:db8::7], true",
      "fe80::/10, fe80::1%eth0, true",           // a zone id is ignored
      // the families never mix
      "0.0.0.0/0, ::1, false",
      "::/0, 127.0.0.1, false",
      // an IPv4-mapped IPv6 address is the IPv4 address
      "10.0.0.0/8, ::ffff:10.1.2.3, true",
  })
  void contains(String range, String address, boolean expected) {
    assertThat(CidrRange.parse(range).contains(address)).isEqualTo(expected);
  }

  @Test
  void surroundingWhitespaceIsTolerated() {
    assertThat(CidrRange.parse("  10.0.0.0/8 ").contains("10.1.1.1")).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", " ", "localhost", "example.com", "example.com/8", "10.0.0", "10.0.0.0.0", "10.0.0.0/", "/8",
      "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/x", "10.0.0.0/ 8", "10.0.0.0/8.0",
      "1.2.3.4:80", "::/129", "1::2::3", "1:2:3:4:5:6:7:8:9", "gggg::1", ":",
      "10.0.0.0\u0000/8", "١٠.0.0.0/8", "0x0a.0.0.0/8", "*", "10.0.0.*"})
  void garbageIsRefusedWithAClearMessage(String text) {
    assertThatThrownBy(() -> CidrRange.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(text.trim().isEmpty() ? "\"" : text.trim().substring(0, Math.min(3, text.trim().length())));
  }

  // Address-shaped strings that are no address (999.0.0.1) are checked in a JVM of their own below:
  // the current implementation would send them to the resolver.
  @ParameterizedTest
  @ValueSource(strings = {"", "garbage", "localhost", "10.0.0", "10.1.2.3/8", "10.1.2.3:80"})
  void containsIsFalseForWhatIsNotAnAddress(String address) {
    assertThat(CidrRange.parse("0.0.0.0/0").contains(address)).isFalse();
    assertThat(CidrRange.parse("10.0.0.0/8").contains(address)).isFalse();
  }

  @Test
  void containsIsFalseForNull() {
    assertThat(CidrRange.parse("0.0.0.0/0").contains(null)).isFalse();
  }

  /**
   * Neither parsing a setting nor checking a peer ever resolves a name. Proven in a JVM of its own
   * whose resolver is a hosts file ({@code -Djdk.net.hosts.file}) that maps each of these strings to
   * an address: if any of them were looked up it would "parse" (or be "contained"), and nothing
   * leaves the machine either way.
   */
  @Test
  void neverResolvesANameEvenOneThatLooksLikeAnAddress(@TempDir Path dir) throws Exception {
    List<String> names = List.of("999.1.1.1", "256.0.0.0", "1.2.3.300", "300.300.300.300", ".1:2", ".:",
        "example.com", "localhost.localdomain", "fd00.example");
    StringBuilder hosts = new StringBuilder();
    for (String name : names) {
      hosts.append("10.9.9.9 ").append(name).append('\n');
    }
    Path hostsFile = dir.resolve("hosts");
    Files.writeString(hostsFile, hosts);

    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djdk.net.hosts.file=" + hostsFile,
        "-cp", System.getProperty("java.class.path"),
        NoLookupProbe.class.getName()));
    command.addAll(names);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output;
    try (InputStream in = process.getInputStream()) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(output).contains("probe done");
    assertThat(output.lines().filter(line -> line.startsWith("RESOLVED")).toList())
        .as("strings CidrRange looked up as names instead of refusing:\n%s", output)
        .isEmpty();
  }

  /** Runs in the child JVM: reports every string that parsed or was contained (that is, resolved). */
  public static final class NoLookupProbe {
    public static void main(String[] args) {
      CidrRange everything = CidrRange.parse("0.0.0.0/0");
      for (String name : args) {
        try {
          CidrRange parsed = CidrRange.parse(name + "/8");
          System.out.println("RESOLVED parse(" + name + "/8) -> " + java.util.Arrays.toString(parsed.network()));
        } catch (IllegalArgumentException expected) {
          System.out.println("refused parse(" + name + "/8)");
        }
        if (everything.contains(name)) {
          System.out.println("RESOLVED contains(" + name + ")");
        }
      }
      System.out.println("probe done");
    }
  }
}
