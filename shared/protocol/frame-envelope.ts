/**
 * The outer envelope of every WebSocket frame between a client and the
 * server: which channel the frame belongs to.
 *
 * One connection carries two channels, as one Unix process talks both to
 * its compositor socket and to the kernel:
 *   - WAYLAND: Wayland messages plus their out-of-band fds (the wire runtime's
 *     frame layout, docs/protocol.md);
 *   - KERNEL: one kernel-channel message, UTF-8 JSON (kernel-channel.ts).
 *
 * Layout (binary WebSocket frames only; text frames are a protocol error):
 *
 *   byte 0      channel: 0 = wayland, 1 = kernel
 *   bytes 1..3  reserved, zero (keeps the payload 4-byte aligned for the
 *               Wayland u32 stream)
 *   bytes 4..   the channel's payload
 */

export const Channel = {
  wayland: 0,
  kernel: 1,
} as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

export const ENVELOPE_SIZE = 4;

/** Prefix `payload` with the envelope of `channel`. */
export function wrapFrame(channel: Channel, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ENVELOPE_SIZE + payload.byteLength);
  frame[0] = channel;
  frame.set(payload, ENVELOPE_SIZE);
  return frame;
}

export type UnwrappedFrame = { ok: true; channel: Channel; payload: Uint8Array } | { ok: false; reason: string };

/** Split a received frame; the payload is a view into `frame` (no copy). */
export function unwrapFrame(frame: Uint8Array): UnwrappedFrame {
  if (frame.byteLength < ENVELOPE_SIZE) return { ok: false, reason: `frame of ${frame.byteLength} bytes is shorter than its envelope` };
  const channel = frame[0];
  if (channel !== Channel.wayland && channel !== Channel.kernel) return { ok: false, reason: `unknown channel ${channel}` };
  if (frame[1] !== 0 || frame[2] !== 0 || frame[3] !== 0) return { ok: false, reason: 'reserved envelope bytes are not zero' };
  return { ok: true, channel, payload: frame.subarray(ENVELOPE_SIZE) };
}
