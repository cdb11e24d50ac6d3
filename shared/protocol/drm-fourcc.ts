/**
 * The DRM fourcc codes and modifiers handoff's dma-buf buffers use
 * (include/uapi/drm/drm_fourcc.h), shared by the compositor that offers
 * them and the clients that ask for them.
 */
import { u64Hi, u64Lo } from './u64';

const fourcc = (s: string): number => (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;

/** [31:0] A:R:G:B 8:8:8:8 little endian. */
export const DRM_FORMAT_ARGB8888 = fourcc('AR24');
/** [31:0] x:R:G:B 8:8:8:8 little endian. */
export const DRM_FORMAT_XRGB8888 = fourcc('XR24');
/** fourcc_mod_code(NONE, 0): the buffer is laid out linearly. */
export const DRM_FORMAT_MOD_LINEAR = 0n;
/** DRM_FORMAT_MOD_LINEAR as the hi/lo halves the protocol carries (u64.ts splits it). */
export const DRM_FORMAT_MOD_LINEAR_HI = u64Hi(DRM_FORMAT_MOD_LINEAR);
export const DRM_FORMAT_MOD_LINEAR_LO = u64Lo(DRM_FORMAT_MOD_LINEAR);
