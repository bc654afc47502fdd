package io.webhookd.cli;

import picocli.CommandLine.IVersionProvider;

/** The version recorded in the jar's manifest by the build. */
final class VersionProvider implements IVersionProvider {

  @Override
  public String[] getVersion() {
    String version = WebhookdCommand.class.getPackage().getImplementationVersion();
    return new String[] {"webhookd " + (version == null ? "(development build)" : version)};
  }
}
