/**
 * Settings: the declared list of every setting, its YAML key, its {@code WEBHOOKD_*} environment
 * override and its default, and the loader that refuses a bad value with one clear line.
 */
package io.webhookd.config;
