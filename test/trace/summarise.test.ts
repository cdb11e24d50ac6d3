import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../shared/trace/events';
import { decodeEvent, encodeEvent } from '../../shared/trace/encode';
import { measureEvent, summarisedFields, summariseEvent, SUMMARISED_KEY } from '../../shared/trace/summarise';

const limits = { maxString: 8, maxArray: 4 };

const job = (label: string): TraceEvent => ({
  type: 'job.queued',
  t: 5n,
  job: 1,
  pid: 2,
  ring: 'r',
  label,
  fence: 3,
});
const alloc = (n: number): TraceEvent => ({
  type: 'dmabuf.alloc',
  t: 1n,
  pid: 1,
  buf: 9,
  size: BigInt(n * 4096),
  pages: Array.from({ length: n }, (_, i) => i),
});

describe('trace event summaries', () => {
  it('a small event is kept as it is (the same object)', () => {
    const ev = job('short');
    expect(summariseEvent(ev, limits)).toBe(ev);
  });

  it('a long string is cut at maxString and its length kept', () => {
    const s = summariseEvent(job('x'.repeat(1000)), limits);
    expect((s as { label: string }).label).toBe(`${'x'.repeat(7)}…`);
    expect(summarisedFields(s)).toEqual({ label: 1000 });
  });

  it('a long array keeps its first maxArray elements and its length', () => {
    const s = summariseEvent(alloc(100), limits);
    expect((s as { pages: number[] }).pages).toEqual([0, 1, 2, 3]);
    expect(summarisedFields(s)).toEqual({ pages: 100 });
  });

  it('the emitted event is never changed', () => {
    const ev = alloc(100);
    summariseEvent(ev, limits);
    expect((ev as { pages: number[] }).pages).toHaveLength(100);
    expect(SUMMARISED_KEY in ev).toBe(false);
  });

  it('a cut never splits a surrogate pair', () => {
    const s = summariseEvent(job(`${'a'.repeat(6)}😀${'b'.repeat(20)}`), limits);
    const label = (s as { label: string }).label;
    expect(label).toBe(`${'a'.repeat(6)}…`);
    expect(encodeURIComponent(label)).toBeTruthy(); // throws on a lone surrogate
  });

  it('a summarised event is within the limits', () => {
    expect(measureEvent(summariseEvent(job('x'.repeat(1000)), limits), limits)).toBeGreaterThan(0);
  });

  it('a summary survives the wire form', () => {
    const s = summariseEvent(alloc(100), limits);
    const back = decodeEvent(encodeEvent(s));
    expect(summarisedFields(back)).toEqual({ pages: 100 });
    expect(back).toEqual(s);
  });

  it('measureEvent is about the encoded length, and -1 when over the limits', () => {
    const ev = job('hello');
    const n = measureEvent(ev, limits);
    const wire = encodeEvent(ev).length;
    expect(n).toBeGreaterThan(wire / 2);
    expect(n).toBeLessThan(wire * 2);
    expect(measureEvent(alloc(5), limits)).toBe(-1);
  });
});
