import { describe, expect, it } from 'vitest';
import { GAP, layoutWindows, TITLE_H } from '../../client/page/desktop-layout';

const canvas = { width: 960, height: 540 };
const win = { width: 192, height: 144 };

describe('desktop layout', () => {
  it('places windows left to right at their own size, title bar room above', () => {
    const p = layoutWindows([win, win], canvas);
    expect(p[0]).toEqual({ x: GAP, y: GAP + TITLE_H, width: 192, height: 144 });
    expect(p[1]).toEqual({ x: GAP + 192 + GAP, y: GAP + TITLE_H, width: 192, height: 144 });
  });

  it('wraps into a new row when the canvas is full', () => {
    const p = layoutWindows(Array(5).fill(win), canvas);
    expect(p[4]!.x).toBe(GAP);
    expect(p[4]!.y).toBe(GAP + TITLE_H + 144 + GAP + TITLE_H);
  });

  it('shrinks every window by one factor when they would fall off the canvas', () => {
    const p = layoutWindows(Array(20).fill(win), canvas);
    const w = p[0]!.width;
    expect(w).toBeLessThan(192);
    for (const r of p) {
      expect(r.width).toBe(w);
      expect(r.x + r.width).toBeLessThanOrEqual(canvas.width);
      expect(r.y + r.height).toBeLessThanOrEqual(canvas.height);
    }
  });
});
