/**
 * The {@code webhookd} command line (picocli): {@code serve} and the operator's subcommands, all
 * reading the same settings.
 */
package io.webhookd.cli;
