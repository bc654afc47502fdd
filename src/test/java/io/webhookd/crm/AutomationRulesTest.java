package io.webhookd.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.webhookd.cli.WebhookdCommand;
import io.webhookd.config.InvalidSettingException;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.crm.automation.AutomationRule;
import io.webhookd.crm.automation.AutomationRules;
import io.webhookd.process.HandlerRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The automation rules file as start-up reads it: a valid file gives the CRM its handlers, an
 * invalid rule stops start-up ({@code CrmHandlers.registry} throws, {@code serve} exits 2) with a
 * message naming the rule and what is wrong.
 */
class AutomationRulesTest {

  @TempDir
  Path dir;

  private Settings settingsWithRules(String yaml) throws Exception {
    Path rules = Files.writeString(dir.resolve("automation.yaml"), yaml);
    Path empty = Files.writeString(dir.resolve("empty.yaml"), "");
    return SettingsLoader.load(empty, Map.of("WEBHOOKD_CRM_AUTOMATION_FILE", rules.toString()));
  }

  @Test
  void aValidRulesFileGivesTheCrmHandlers() throws Exception {
    HandlerRegistry registry = CrmHandlers.registry(settingsWithRules("""
        rules:
          - name: pricing-question
            when: {type: message.received, keyword: price}
            then:
              - tag: pricing
              - reply: "Our prices: https://example.com/prices"
              - post: http://127.0.0.1:9/hooks/pricing
          - name: missed-call
            when: {type: [call.missed, call.completed], regex: "(?i)urgent"}
            then:
              - tag: call-back
        """));
    assertThat(registry.types()).contains("message.received", "message.delivered", "call.completed",
        "call.summary.completed", "contact.updated", "contact.deleted", "opt_out");

    List<AutomationRule> rules = AutomationRules.load(dir.resolve("automation.yaml"));
    assertThat(rules).extracting(AutomationRule::name).containsExactly("pricing-question", "missed-call");
    AutomationRule pricing = rules.get(0);
    assertThat(pricing.types()).containsExactly("message.received");
    assertThat(pricing.keyword()).isEqualTo("price");
    assertThat(pricing.actions()).containsExactly(new AutomationRule.Action("pricing", null, null),
        new AutomationRule.Action(null, "Our prices: https://example.com/prices", null),
        new AutomationRule.Action(null, null, "http://127.0.0.1:9/hooks/pricing"));
    assertThat(pricing.matches(new AutomationRule.Facts("message.received", "What's the PRICE?", Set.of(), null)))
        .isTrue();
    assertThat(pricing.matches(new AutomationRule.Facts("message.received", "priceless", Set.of(), null))).isFalse();
    assertThat(pricing.matches(new AutomationRule.Facts("call.completed", "price", Set.of(), null))).isFalse();
    AutomationRule missed = rules.get(1);
    assertThat(missed.types()).containsExactlyInAnyOrder("call.missed", "call.completed");
    assertThat(missed.matches(new AutomationRule.Facts("call.missed", "URGENT: call back", Set.of(), null))).isTrue();
  }

  @Test
  void aMissingRulesFileMeansNoRules() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.yaml"), "");
    Settings settings = SettingsLoader.load(empty,
        Map.of("WEBHOOKD_CRM_AUTOMATION_FILE", dir.resolve("absent.yaml").toString()));
    assertThat(CrmHandlers.registry(settings).types()).contains("message.received");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "bad regex | when: {type: message.received, regex: '([a-z'} | then: [{tag: x}] | not a valid regular expression",
      "unknown action | when: {type: message.received, keyword: price} | then: [{call: '+18005550100'}] | unknown action 'call'",
      "unknown condition | when: {type: message.received, sender: '+1800'} | then: [{tag: x}] | unknown condition 'sender'",
      "post not a URL | when: {keyword: price} | then: [{post: 'hooks.example.com/x'}] | 'post' must be an http",
      "no actions | when: {type: message.received, keyword: price} | then: [] | needs a 'then'",
      "empty keyword | when: {type: message.received, keyword: ''} | then: [{tag: x}] | 'keyword' must be a non-empty text",
  })
  void anInvalidRuleStopsStartUpNamingTheRule(String problem, String when, String then, String expected) throws Exception {
    String ruleName = "rule-with-" + problem.replace(' ', '-');
    Settings settings = settingsWithRules("rules:\n"
        + "  - name: fine-rule\n    when: {keyword: hello}\n    then: [{tag: greeted}]\n"
        + "  - name: " + ruleName + "\n    " + when + "\n    " + then + "\n");

    assertThatThrownBy(() -> CrmHandlers.registry(settings))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageContaining(ruleName)
        .hasMessageContaining(expected);
  }

  @Test
  void twoRulesWithOneNameStopStartUp() throws Exception {
    Settings settings = settingsWithRules("""
        rules:
          - name: twice
            when: {keyword: a}
            then: [{tag: a}]
          - name: twice
            when: {keyword: b}
            then: [{tag: b}]
        """);
    assertThatThrownBy(() -> CrmHandlers.registry(settings))
        .isInstanceOf(InvalidSettingException.class).hasMessageContaining("twice");
  }

  @Test
  void serveExitsWithCode2OnAnInvalidRule() throws Exception {
    Path rules = Files.writeString(dir.resolve("automation.yaml"), """
        rules:
          - name: broken-regex
            when: {type: message.received, regex: "([0-9]"}
            then:
              - tag: numbers
        """);
    Path config = Files.writeString(dir.resolve("webhookd.yaml"), "data-dir: \"" + dir.resolve("data") + "\"\n"
        + "http:\n  host: 127.0.0.1\n  port: 0\nmanagement:\n  port: 0\n"
        + "crm:\n  automation-file: \"" + rules + "\"\n");

    PrintStream originalErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      exit = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
          () -> WebhookdCommand.commandLine().execute("serve", "--config", config.toString()),
          "serve started with an invalid rule instead of exiting");
    } finally {
      System.setErr(originalErr);
    }

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("broken-regex").contains("regular expression");
    assertThat(dir.resolve("data")).as("nothing was started").doesNotExist();
  }
}
