/**
 * Processing: the scheduler that claims due events from the store (with leases, so instances share
 * the work and take over from one that died) and hands them to worker verticles over the event bus,
 * one at a time per conversation.
 */
package io.webhookd.process;
