import { describe, expect, it } from 'vitest';
import {
  createSampleRing,
  createSurfaceTiming,
  fps,
  histogram,
  percentile,
  pushSample,
  recordPresented,
  ringValues,
  samplesSince,
  summary,
  vblanksOf,
} from '../../client/page/frame-timing';

describe('sample ring', () => {
  it('keeps only the newest samples, oldest first', () => {
    const r = createSampleRing(3);
    for (let i = 1; i <= 5; i++) pushSample(r, i * 10, i);
    expect(ringValues(r)).toEqual([3, 4, 5]);
    expect(samplesSince(r, 40)).toEqual([[40, 50], [4, 5]]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => createSampleRing(0)).toThrow(RangeError);
  });
});

describe('fps', () => {
  it('counts frames inside the last second', () => {
    const r = createSampleRing(100);
    for (let t = 0; t <= 2000; t += 50) pushSample(r, t, 0); // 20 per second
    expect(fps(r, 2000)).toBe(20);
  });

  it('a client that stopped presenting reads 0, not its last rate', () => {
    const r = createSampleRing(100);
    for (let t = 0; t <= 1000; t += 100) pushSample(r, t, 0);
    expect(fps(r, 3000)).toBe(0);
  });

  it('over a longer window the rate is per second of window', () => {
    const r = createSampleRing(100);
    for (let t = 500; t <= 4000; t += 500) pushSample(r, t, 0); // 2 per second
    expect(fps(r, 4000, 2000)).toBe(2);
  });
});

describe('percentile and histogram', () => {
  it('percentile by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 1)).toBe(5);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('histogram bins from 0 and folds outliers into the last bin, counting them', () => {
    const h = histogram([0, 4.9, 5, 12, 99], 5, 3);
    expect(h.edges).toEqual([0, 5, 10]);
    expect(h.counts).toEqual([2, 1, 2]);
    expect(h.overflow).toBe(1);
  });
});

describe('surface timing', () => {
  it('a frame shown at the next vblank is one vblank of latency, later ones more', () => {
    expect(vblanksOf(10, 16.67)).toBe(1);
    expect(vblanksOf(16.67, 16.67)).toBe(1);
    expect(vblanksOf(20, 16.67)).toBe(2);
  });

  it('records frame time between presentations and latency in ms and vblanks', () => {
    const s = createSurfaceTiming(10);
    recordPresented(s, 100, 12, 20);
    recordPresented(s, 140, 30, 20);
    expect(s.presented).toBe(2);
    expect(ringValues(s.frames)[1]).toBe(40);
    expect(ringValues(s.frames)[0]).toBeNaN(); // the first frame has no predecessor
    expect(ringValues(s.latencyVblanks)).toEqual([1, 2]);
    expect(summary(s.latencyMs)).toMatchObject({ p50: 12, max: 30, n: 2 });
  });
});
