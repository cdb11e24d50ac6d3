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
 *   u32 channel (little-endian)  0 = wayland, 1 = kernel
 *   bytes 4..                    the channel's payload
 *
 * The channel word is the first word of the wire runtime's Wayland frame
 * (wire.ts: channel, nfds, fds, messages), so a Wayland frame is passed on
 * whole; a kernel frame is the channel word followed by UTF-8 JSON, with no
 * fds (fd numbers in kernel calls are the caller's own, never passed).
 * Reading the channel as bytes: byte 0 is the channel, bytes 1..3 are zero.
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

/**
 * Split a received frame: its channel, and the payload after the channel
 * word (a view into `frame`, no copy). A Wayland frame's payload starts
 * with its nfds word; the session hands the whole frame to the runtime.
 */
export function unwrapFrame(frame: Uint8Array): UnwrappedFrame {
  if (frame.byteLength < ENVELOPE_SIZE) return { ok: false, reason: `frame of ${frame.byteLength} bytes is shorter than its channel word` };
  const channel = new DataView(frame.buffer, frame.byteOffset, ENVELOPE_SIZE).getUint32(0, true);
  if (channel !== Channel.wayland && channel !== Channel.kernel) return { ok: false, reason: `unknown channel ${channel}` };
  return { ok: true, channel, payload: frame.subarray(ENVELOPE_SIZE) };
}
