import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../shared/trace/events';
import { category } from '../../shared/trace/events';
import { decodeEvent, encodeEvent } from '../../shared/trace/encode';
import { oneFrame } from './fixtures';

describe('trace encoding', () => {
  it('bigints travel as exact decimal strings listed in $bigint', () => {
    const ev: TraceEvent = { type: 'surface.latch', t: 2n ** 60n + 1n, client: 1, surface: 3, buffer: 5, commit: 9, latency: 7n };
    const obj = JSON.parse(encodeEvent(ev)) as Record<string, unknown>;
    expect(obj['t']).toBe('1152921504606846977');
    expect(obj['latency']).toBe('7');
    expect(obj['$bigint']).toEqual(['t', 'latency']);
  });

  it('every fixture event round-trips through encode and decode', () => {
    for (const ev of oneFrame()) expect(decodeEvent(encodeEvent(ev))).toEqual(ev);
  });

  it('a string field that looks like a number stays a string', () => {
    const ev: TraceEvent = { type: 'output.missed', t: 1n, output: '42', seq: 1, reason: '100' };
    expect(decodeEvent(encodeEvent(ev))).toEqual(ev);
  });

  it('an object without a bigint t is rejected', () => {
    expect(() => decodeEvent('{"type":"protocol","t":5}')).toThrow(TypeError);
  });

  it('category is the type up to its first dot', () => {
    const evs = oneFrame();
    expect(evs.map(category)).toContain('job');
    expect(category({ type: 'syscall', t: 0n, pid: 1, call: 'close', fd: 3, result: 0 })).toBe('syscall');
    expect(category({ type: 'output.vblank', t: 0n, output: 'o', seq: 1, timestamp: 0n, flip: false })).toBe('output');
  });
});

describe('trace encoding of odd values', () => {
  it('arrays of numbers stay numbers, arrays of bigints come back as bigints, undefined is left out', () => {
    const ev = { type: 'pages.free', t: 3n, owner: 'heap', buf: undefined, pages: [1, 2], points: [1n, 2n] } as unknown as TraceEvent;
    const text = encodeEvent(ev);
    expect(JSON.parse(text)).toEqual({ type: 'pages.free', t: '3', owner: 'heap', pages: [1, 2], points: ['1', '2'], $bigint: ['t', 'points'] });
    expect(decodeEvent(text)).toEqual({ type: 'pages.free', t: 3n, owner: 'heap', pages: [1, 2], points: [1n, 2n] });
  });

  it('strings with quotes and newlines are escaped', () => {
    const ev: TraceEvent = { type: 'output.missed', t: 1n, output: 'o"1', seq: 1, reason: 'a\nb\\c' };
    expect(decodeEvent(encodeEvent(ev))).toEqual(ev);
  });
});
