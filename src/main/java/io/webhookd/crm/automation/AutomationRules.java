package io.webhookd.crm.automation;

import io.webhookd.config.InvalidSettingException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Loads and checks the automation rules. Any problem stops start-up with a message that names the
 * rule and what is wrong with it.
 *
 * <pre>
 * rules:
 *   - name: pricing-question
 *     when: {type: message.received, keyword: price}     # also: regex, tag, campaign
 *     then:
 *       - tag: pricing
 *       - reply: "Our prices: https://example.com/prices"
 *       - post: https://hooks.example.com/pricing
 * </pre>
 */
public final class AutomationRules {

  private static final Set<String> CONDITIONS = Set.of("type", "keyword", "regex", "tag", "campaign");
  private static final Set<String> ACTIONS = Set.of("tag", "reply", "post");

  private AutomationRules() {
  }

  /** The rules in {@code file}; none when it does not exist. */
  public static List<AutomationRule> load(Path file) {
    Object root;
    try (Reader reader = Files.newBufferedReader(file)) {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(new SafeConstructor(options)).load(reader);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new InvalidSettingException("automation rules " + file + " cannot be read: " + e.getMessage());
    } catch (YAMLException e) {
      String firstLine = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      throw new InvalidSettingException("automation rules " + file + " are not valid YAML: " + firstLine);
    }
    if (root == null) {
      return List.of();
    }
    if (!(root instanceof Map<?, ?> map) || !(map.get("rules") instanceof List<?> list) || map.size() != 1) {
      throw new InvalidSettingException("automation rules " + file + ": expected a single key 'rules' with a list");
    }
    List<AutomationRule> rules = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      AutomationRule rule = rule(list.get(i), i + 1);
      if (!names.add(rule.name())) {
        throw problem(rule.name(), "the name is used by another rule");
      }
      rules.add(rule);
    }
    return List.copyOf(rules);
  }

  private static AutomationRule rule(Object item, int position) {
    if (!(item instanceof Map<?, ?> map)) {
      throw problem("#" + position, "must be a mapping with name, when and then");
    }
    String name = map.get("name") instanceof String s && !s.isBlank() ? s.trim() : null;
    if (name == null) {
      throw problem("#" + position, "has no name");
    }
    for (Object key : map.keySet()) {
      if (!Set.of("name", "when", "then").contains(String.valueOf(key))) {
        throw problem(name, "unknown key '" + key + "' (expected name, when, then)");
      }
    }
    if (!(map.get("when") instanceof Map<?, ?> when) || when.isEmpty()) {
      throw problem(name, "needs a 'when' with at least one of " + CONDITIONS);
    }
    for (Object key : when.keySet()) {
      if (!CONDITIONS.contains(String.valueOf(key))) {
        throw problem(name, "unknown condition '" + key + "' (expected one of " + CONDITIONS + ")");
      }
    }
    Set<String> types = new LinkedHashSet<>();
    Object type = when.get("type");
    if (type instanceof String s) {
      types.add(s.trim());
    } else if (type instanceof List<?> list) {
      list.forEach(t -> types.add(String.valueOf(t).trim()));
    } else if (type != null) {
      throw problem(name, "'type' must be an event type or a list of them");
    }
    Pattern pattern = null;
    if (when.get("regex") != null) {
      try {
        pattern = Pattern.compile(text(name, when, "regex"));
      } catch (PatternSyntaxException e) {
        throw problem(name, "'regex' is not a valid regular expression: " + e.getDescription());
      }
    }
    return new AutomationRule(name, Set.copyOf(types), optionalText(name, when, "keyword"), pattern,
        optionalText(name, when, "tag"), optionalText(name, when, "campaign"), actions(name, map.get("then")));
  }

  private static List<AutomationRule.Action> actions(String name, Object then) {
    if (!(then instanceof List<?> list) || list.isEmpty()) {
      throw problem(name, "needs a 'then' list with at least one of " + ACTIONS);
    }
    List<AutomationRule.Action> actions = new ArrayList<>();
    for (Object item : list) {
      if (!(item instanceof Map<?, ?> action) || action.size() != 1) {
        throw problem(name, "each action must be exactly one of " + ACTIONS);
      }
      String kind = String.valueOf(action.keySet().iterator().next());
      if (!ACTIONS.contains(kind)) {
        throw problem(name, "unknown action '" + kind + "' (expected one of " + ACTIONS + ")");
      }
      String value = text(name, action, kind);
      if (kind.equals("post") && !value.startsWith("http://") && !value.startsWith("https://")) {
        throw problem(name, "'post' must be an http:// or https:// URL");
      }
      actions.add(new AutomationRule.Action(
          kind.equals("tag") ? value : null, kind.equals("reply") ? value : null, kind.equals("post") ? value : null));
    }
    return List.copyOf(actions);
  }

  private static String optionalText(String rule, Map<?, ?> map, String key) {
    return map.get(key) == null ? null : text(rule, map, key);
  }

  private static String text(String rule, Map<?, ?> map, String key) {
    Object value = map.get(key);
    if (!(value instanceof String s) || s.isBlank()) {
      throw problem(rule, "'" + key + "' must be a non-empty text");
    }
    return s.trim();
  }

  private static InvalidSettingException problem(String rule, String what) {
    return new InvalidSettingException("automation rule " + rule + ": " + what);
  }
}
