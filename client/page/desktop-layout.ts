/**
 * Where windows go on the desktop: left to right in stacking order,
 * wrapping into rows, each with room for its title bar above. When the
 * windows do not fit at their own size, all are shown smaller by one
 * common factor (an overview, as a compositor's expose mode does) rather
 * than falling off the canvas. Pure, unit-tested.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Placed {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export const TITLE_H = 22;
export const GAP = 14;

/** Scales tried in order; the last is used even if it does not fit. */
const SCALES = [1, 0.75, 0.5, 0.375, 0.25, 0.125] as const;

function flow(sizes: readonly Size[], canvas: Size, scale: number): { placed: Placed[]; fits: boolean } {
  const placed: Placed[] = [];
  let x = GAP;
  let y = GAP + TITLE_H;
  let rowH = 0;
  let fits = true;
  for (const s of sizes) {
    const w = Math.max(1, Math.round(s.width * scale));
    const h = Math.max(1, Math.round(s.height * scale));
    if (x + w + GAP > canvas.width && x > GAP) {
      x = GAP;
      y += rowH + GAP + TITLE_H;
      rowH = 0;
    }
    if (x + w > canvas.width || y + h > canvas.height) fits = false;
    placed.push({ x, y, width: w, height: h });
    x += w + GAP;
    rowH = Math.max(rowH, h);
  }
  return { placed, fits };
}

/** Positions (content rectangles, title bar above each) for windows of `sizes`. */
export function layoutWindows(sizes: readonly Size[], canvas: Size): Placed[] {
  let last: Placed[] = [];
  for (const scale of SCALES) {
    const { placed, fits } = flow(sizes, canvas, scale);
    if (fits) return placed;
    last = placed;
  }
  return last;
}
