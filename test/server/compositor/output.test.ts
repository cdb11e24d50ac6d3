import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/kernel/clock';
import { Output, type OutputHooks } from '../../../server/compositor/output';

function recorder(opts: { compose?: boolean } = {}) {
  const log: string[] = [];
  let output: Output | undefined;
  const hooks: OutputHooks = {
    repaint: (_o, seq, at) => {
      log.push(`repaint ${seq} @${at}`);
      return opts.compose ?? true;
    },
    flipped: (_o, seq, _at, target) => log.push(`flip ${seq} (target ${target})`),
    missed: (_o, seq, target) => log.push(`missed ${seq} (target ${target})`),
  };
  return { log, hooks, set: (o: Output) => (output = o), get: () => output! };
}

describe('output repaint cycle', () => {
  it('latches a quarter period before each vblank by default', () => {
    const clock = new ManualClock(0n);
    const r = recorder({ compose: false });
    const out = new Output('HDMI-A-1', clock, r.hooks, { refreshHz: 100 });
    out.start();
    clock.advance(7_499_999n);
    expect(r.log).toEqual([]);
    clock.advance(1n);
    expect(r.log).toEqual(['repaint 1 @10000000']);
    clock.advance(2_500_000n);
    expect(out.seq).toBe(1n);
    expect(out.lastVblankAt).toBe(10_000_000n);
  });

  it('flips at the first vblank after the composition completes', () => {
    const clock = new ManualClock(0n);
    const r = recorder();
    const out = new Output('o', clock, r.hooks, { refreshHz: 100 });
    out.start();
    clock.advanceTo(8_000_000n); // latched at 7.5 ms
    out.compositionDone();
    clock.advanceTo(10_000_000n);
    expect(r.log).toEqual(['repaint 1 @10000000', 'flip 1 (target 1)']);
    expect(out.stats).toMatchObject({ flips: 1, missed: 0 });
  });

  it('a composition still running at its vblank is a missed frame and flips one later', () => {
    const clock = new ManualClock(0n);
    const r = recorder();
    const out = new Output('o', clock, r.hooks, { refreshHz: 100 });
    out.start();
    clock.advanceTo(12_000_000n); // vblank 1 passes with the job in flight
    out.compositionDone();
    clock.advanceTo(20_000_000n);
    expect(r.log).toEqual(['repaint 1 @10000000', 'missed 1 (target 1)', 'flip 2 (target 1)']);
    // No second repaint while the first composition was busy.
    expect(out.stats.repaints).toBe(1);
  });

  it('slow motion stretches the period', () => {
    const clock = new ManualClock(0n);
    const r = recorder({ compose: false });
    const out = new Output('o', clock, r.hooks, { refreshHz: 100, slowMotion: 10 });
    expect(out.periodNs).toBe(100_000_000n);
    out.start();
    clock.advanceTo(100_000_000n);
    expect(out.seq).toBe(1n);
  });

  it('rejects refresh rates out of range', () => {
    const out = new Output('o', new ManualClock(0n), recorder().hooks);
    expect(() => out.setMode({ refreshHz: 0 })).toThrow(RangeError);
  });
});
