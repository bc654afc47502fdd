package io.webhookd.process;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.webhookd.event.InboxEvent;

/**
 * Passes {@link InboxEvent}s between verticles of one process by reference. Events never cross a
 * process boundary on the bus (instances share work through the store), so there is no wire form.
 */
public final class InboxEventCodec implements MessageCodec<InboxEvent, InboxEvent> {

  @Override
  public void encodeToWire(Buffer buffer, InboxEvent event) {
    throw new UnsupportedOperationException("inbox events are only sent within one process");
  }

  @Override
  public InboxEvent decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("inbox events are only sent within one process");
  }

  @Override
  public InboxEvent transform(InboxEvent event) {
    return event;
  }

  @Override
  public String name() {
    return "webhookd-inbox-event";
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
