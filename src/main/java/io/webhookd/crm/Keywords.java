package io.webhookd.crm;

import io.webhookd.config.Settings;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What an inbound text means to the CRM. Consent keywords must be the whole text (trimmed, any
 * case), as carriers expect; a campaign reply is classified by its whole text or its first words.
 */
public final class Keywords {

  /** A consent or help request. */
  public enum Intent { OPT_OUT, OPT_IN, HELP, NONE }

  /** How a campaign reply is classified. */
  public enum Reply {
    INTERESTED, NOT_INTERESTED, OTHER;

    public String dbValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Set<String> optOut;
  private final Set<String> optIn;
  private final Set<String> help;
  private final Set<String> interested;
  private final Set<String> notInterested;

  public Keywords(Settings.Crm crm) {
    this.optOut = normalized(crm.optOutKeywords());
    this.optIn = normalized(crm.optInKeywords());
    this.help = normalized(crm.helpKeywords());
    this.interested = normalized(crm.interestedKeywords());
    this.notInterested = normalized(crm.notInterestedKeywords());
  }

  public Intent intent(String text) {
    String t = normalize(text);
    if (optOut.contains(t)) {
      return Intent.OPT_OUT;
    }
    if (optIn.contains(t)) {
      return Intent.OPT_IN;
    }
    return help.contains(t) ? Intent.HELP : Intent.NONE;
  }

  /** The keyword as the sender wrote it, normalised, for the compliance record. */
  public static String keyword(String text) {
    return normalize(text);
  }

  public Reply classify(String text) {
    String t = normalize(text).replaceAll("[^A-Z0-9 ]", " ").replaceAll("\\s+", " ").trim();
    // "NOT INTERESTED" must win over "INTERESTED": try the longer phrases first.
    if (matches(t, notInterested)) {
      return Reply.NOT_INTERESTED;
    }
    return matches(t, interested) ? Reply.INTERESTED : Reply.OTHER;
  }

  private static boolean matches(String text, Set<String> phrases) {
    for (String phrase : phrases) {
      if (text.equals(phrase) || text.startsWith(phrase + " ")) {
        return true;
      }
    }
    return false;
  }

  private static String normalize(String text) {
    return text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
  }

  private static Set<String> normalized(List<String> words) {
    return words.stream().map(Keywords::normalize).collect(Collectors.toUnmodifiableSet());
  }
}
