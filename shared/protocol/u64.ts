/**
 * 64-bit values on the Wayland wire. The protocol has no 64-bit argument
 * type, so timeline points, timestamps and sequence numbers travel as two
 * `uint`s, most significant first (wp_linux_drm_syncobj_surface_v1's
 * point_hi/point_lo, wp_presentation_feedback's tv_sec_hi/lo and seq_hi/lo).
 * Inside the program they are `bigint`; these are the one place that splits
 * and joins them.
 */

/** The high 32 bits of a u64, as a wire `uint`. */
export function u64Hi(v: bigint): number {
  return Number((v >> 32n) & 0xffff_ffffn);
}

/** The low 32 bits of a u64, as a wire `uint`. */
export function u64Lo(v: bigint): number {
  return Number(v & 0xffff_ffffn);
}

/** Join a hi/lo pair of wire `uint`s into a u64. */
export function u64FromHiLo(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
