/**
 * The dedup guard: memory tiers (in-process Caffeine, later a shared one) that turn away hot
 * duplicates before they reach storage. Tiers learn a key only after the store committed it; the
 * store's unique key stays the final word.
 */
package io.webhookd.dedup;
