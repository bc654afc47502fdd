/**
 * Processing: the scheduler that claims due events from the store (with leases, so instances share
 * the work and take over from one that died) and hands them to worker verticles over the event bus,
 * one at a time per conversation. One attempt at an event, its retry or dead letter included, is
 * {@link io.webhookd.process.EventProcessor}'s, wherever it runs: in a worker, or, where the store
 * can, in the commit that stores a new event ({@link io.webhookd.process.WorkIntake}).
 */
package io.webhookd.process;
