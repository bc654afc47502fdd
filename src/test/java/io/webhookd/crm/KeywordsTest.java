package io.webhookd.crm;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.config.SettingsLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Consent keywords (the whole text, trimmed, any case) and campaign reply classification, with the default settings. */
class KeywordsTest {

  private static Keywords keywords;

  @BeforeAll
  static void defaults(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.yaml"), "");
    keywords = new Keywords(SettingsLoader.load(empty, Map.of()).crm());
  }

  @ParameterizedTest
  @ValueSource(strings = {"STOP", "stop", "Stop", "  STOP  ", "\tstop\n", "StopAll", "unsubscribe", "CANCEL", "end",
      "quit", "Revoke", "optout"})
  void theWholeTextAsAnOptOutKeywordOptsOut(String text) {
    assertThat(keywords.intent(text)).isEqualTo(Keywords.Intent.OPT_OUT);
  }

  @ParameterizedTest
  @ValueSource(strings = {"START", "start", " Start ", "unstop", "UNSTOP"})
  void theWholeTextAsAnOptInKeywordOptsIn(String text) {
    assertThat(keywords.intent(text)).isEqualTo(Keywords.Intent.OPT_IN);
  }

  @ParameterizedTest
  @ValueSource(strings = {"HELP", "help", "  Help\n"})
  void theWholeTextAsAHelpKeywordAsksForHelp(String text) {
    assertThat(keywords.intent(text)).isEqualTo(Keywords.Intent.HELP);
  }

  @ParameterizedTest
  @ValueSource(strings = {"please stop", "STOP it", "don't stop", "stopped", "Start now", "help me", "helpful",
      "S T O P", "", "   "})
  void aKeywordInsideOtherTextIsNoConsentChange(String text) {
    assertThat(keywords.intent(text)).isEqualTo(Keywords.Intent.NONE);
  }

  @Test
  void noTextIsNoIntent() {
    assertThat(keywords.intent(null)).isEqualTo(Keywords.Intent.NONE);
  }

  @Test
  void theComplianceKeywordIsTheTextTrimmedInUpperCase() {
    assertThat(Keywords.keyword("  stop \n")).isEqualTo("STOP");
  }

  @ParameterizedTest
  @ValueSource(strings = {"YES", "yes", "Yes!", "YES please", "y", "Interested", "INTERESTED", "interested!!",
      "sure thing", "OK", "ok, send it", "  yes  "})
  void interestedReplies(String text) {
    assertThat(keywords.classify(text)).isEqualTo(Keywords.Reply.INTERESTED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"NOT INTERESTED", "not interested", "Not interested.", "no", "No thanks", "no thanks!",
      "NOPE", "n", "no, not now"})
  void notInterestedReplies(String text) {
    assertThat(keywords.classify(text)).isEqualTo(Keywords.Reply.NOT_INTERESTED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Maybe later", "yesterday was better", "nothing", "who is this?", "I am not sure", ""})
  void otherReplies(String text) {
    assertThat(keywords.classify(text)).isEqualTo(Keywords.Reply.OTHER);
  }

  @Test
  void notInterestedWinsOverInterestedWhateverTheCase() {
    assertThat(keywords.classify("NOT INTERESTED")).isEqualTo(Keywords.Reply.NOT_INTERESTED);
    assertThat(keywords.classify("Not Interested")).isEqualTo(Keywords.Reply.NOT_INTERESTED);
    assertThat(keywords.classify("INTERESTED")).isEqualTo(Keywords.Reply.INTERESTED);
  }
}
