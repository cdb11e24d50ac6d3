import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { KernelCore } from '../../shared/kernel/core';
import * as dmaFence from '../../shared/kernel/dma-fence';
import { EINVAL, ENOENT, ETIMEDOUT, EIO, EEXIST } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import {
  addDependency,
  attachEngine,
  completeJob,
  createSched,
  depsCreate,
  detachEngine,
  jobCreate,
  jobPush,
  ringClose,
  ringCreate,
  ringStats,
  type VgpuJob,
  type VgpuJobView,
  type VgpuRing,
  type VgpuSched,
} from '../../shared/kernel/vgpu-sched';

const MS = 1_000_000n;

function setup(timeoutNs = 2000n * MS) {
  const clock = new ManualClock(0n);
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const sched = createSched(core, timeoutNs);
  const events: KernelEvent[] = [];
  core.subscribe((ev) => events.push(ev));
  const ring = (name: string): VgpuRing => {
    const r = ringCreate(sched, name, null);
    if (typeof r === 'number') throw new Error('ring');
    return r;
  };
  const ops: dmaFence.DmaFenceOps = { driverName: 'test', timelineName: () => 'tl', use64bitSeqno: false };
  const ctx = core.contextAlloc();
  let seq = 0n;
  const extFence = (): dmaFence.DmaFence => dmaFence.init(core, ops, ctx, ++seq);
  return { clock, core, sched, events, ring, extFence };
}

function submit(sched: VgpuSched, ring: VgpuRing, durationNs: bigint, deps: dmaFence.DmaFence[] = [], label = 'job'): VgpuJob {
  const d = depsCreate();
  for (const f of deps) addDependency(d, f);
  const job = jobCreate(sched, ring, { pid: 1, label, durationNs, bos: [] }, d);
  jobPush(sched, job);
  return job;
}

function jobEvents(events: KernelEvent[], job: VgpuJob): string[] {
  return events.filter((e) => 'ring' in e && e.job === job.view.id).map((e) => `${e.type}@${e.t}`);
}

describe('vgpu scheduler', () => {
  it('job fences are driver vgpu on a timeline named after the ring, seqnos counting per ring', () => {
    const { sched, ring } = setup();
    const gfx = ring('gfx');
    const comp = ring('compositor');
    const a = submit(sched, gfx, 1n);
    const b = submit(sched, gfx, 1n);
    const c = submit(sched, comp, 1n);
    expect(dmaFence.driverName(a.fence)).toBe('vgpu');
    expect(dmaFence.timelineName(a.fence)).toBe('gfx');
    expect(dmaFence.timelineName(c.fence)).toBe('compositor');
    expect([a.fence.seqno, b.fence.seqno, c.fence.seqno]).toEqual([1n, 2n, 1n]);
    expect(a.fence.context).toBe(b.fence.context);
    expect(c.fence.context).not.toBe(a.fence.context);
  });

  it('the simulated engine completes a job after its duration on the clock', () => {
    const { clock, sched, ring } = setup();
    const job = submit(sched, ring('gfx'), 5n * MS);
    clock.advance(5n * MS - 1n);
    expect(job.fence.signaled).toBe(false);
    clock.advance(1n);
    expect(job.fence.signaled).toBe(true);
    expect(job.fence.timestamp).toBe(5n * MS);
    expect(dmaFence.getStatus(job.fence)).toBe(1);
  });

  it('jobs on one ring run one at a time in submission order', () => {
    const { clock, sched, ring, events } = setup();
    const gfx = ring('gfx');
    const a = submit(sched, gfx, 3n * MS);
    const b = submit(sched, gfx, 2n * MS);
    expect(jobEvents(events, b)).toEqual(['job.queued@0', 'job.runnable@0']);
    clock.advance(3n * MS);
    expect(a.fence.signaled).toBe(true);
    expect(b.state).toBe('running');
    clock.advance(2n * MS);
    expect(b.fence.timestamp).toBe(5n * MS);
    expect(jobEvents(events, b)).toEqual(['job.queued@0', 'job.runnable@0', 'job.start@3000000', 'job.done@5000000']);
  });

  it('a job waits for its dependency and turns runnable when it signals', () => {
    const { clock, sched, ring, events, extFence } = setup();
    const dep = extFence();
    const job = submit(sched, ring('gfx'), 1n * MS, [dep]);
    clock.advance(10n * MS);
    expect(job.state).toBe('waiting');
    expect(jobEvents(events, job)).toEqual(['job.queued@0']);
    dmaFence.signal(dep);
    expect(job.state).toBe('running');
    expect(jobEvents(events, job)).toEqual(['job.queued@0', 'job.runnable@10000000', 'job.start@10000000']);
    clock.advance(1n * MS);
    expect(job.fence.signaled).toBe(true);
  });

  it('a runnable job waits behind an earlier job of its ring that is still blocked', () => {
    const { sched, ring, extFence } = setup();
    const gfx = ring('gfx');
    const dep = extFence();
    const first = submit(sched, gfx, 1n, [dep]);
    const second = submit(sched, gfx, 1n);
    expect(second.state).toBe('runnable');
    expect(gfx.running).toBe(null);
    dmaFence.signal(dep);
    expect(first.state).toBe('running');
    expect(second.state).toBe('runnable');
  });

  it('different rings run in parallel', () => {
    const { clock, sched, ring } = setup();
    const a = submit(sched, ring('a'), 4n * MS);
    const b = submit(sched, ring('b'), 4n * MS);
    expect(a.state).toBe('running');
    expect(b.state).toBe('running');
    clock.advance(4n * MS);
    expect(a.fence.signaled && b.fence.signaled).toBe(true);
  });

  it('dependencies keep one fence per context, the later one, and drop signaled fences', () => {
    const { extFence, core } = setup();
    const f1 = extFence();
    const f2 = extFence();
    const done = extFence();
    dmaFence.signal(done);
    const other = dmaFence.init(core, { driverName: 'x', timelineName: () => 'y', use64bitSeqno: false }, core.contextAlloc(), 1n);
    const deps = depsCreate();
    addDependency(deps, f2);
    addDependency(deps, f1);
    addDependency(deps, done);
    addDependency(deps, other);
    expect(deps.fences).toEqual([f2, other]);
  });

  it('a dependency that failed does not cancel the job', () => {
    const { clock, sched, ring, extFence } = setup();
    const dep = extFence();
    const job = submit(sched, ring('gfx'), 1n, [dep]);
    dmaFence.setError(dep, -EIO);
    dmaFence.signal(dep);
    clock.advance(1n);
    expect(dmaFence.getStatus(job.fence)).toBe(1);
  });

  it('a job running past the timeout is a hang: -ETIMEDOUT and the ring goes on', () => {
    const { clock, sched, ring } = setup(100n * MS);
    const gfx = ring('gfx');
    const hung = submit(sched, gfx, 1000n * MS);
    const next = submit(sched, gfx, 1n * MS);
    clock.advance(100n * MS - 1n);
    expect(hung.fence.signaled).toBe(false);
    clock.advance(1n);
    expect(dmaFence.getStatus(hung.fence)).toBe(-ETIMEDOUT);
    expect(hung.fence.timestamp).toBe(100n * MS);
    expect(next.state).toBe('running');
    clock.advance(1n * MS);
    expect(dmaFence.getStatus(next.fence)).toBe(1);
    expect(ringStats(sched, gfx).hangs).toBe(1);
    clock.advance(100n * MS);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('the ring keeps one timeout timer, not one per job', () => {
    const { clock, sched, ring } = setup(100n * MS);
    const r = ring('gfx');
    for (let i = 0; i < 50; i++) {
      submit(sched, r, 1n * MS);
      clock.advance(1n * MS);
    }
    expect(clock.pendingTimers()).toBe(1);
  });

  it('a later job on the ring gets its own full timeout', () => {
    const { clock, sched, ring } = setup(100n * MS);
    const r = ring('gfx');
    submit(sched, r, 60n * MS);
    const second = submit(sched, r, 90n * MS); // starts at 60, deadline 160
    clock.advance(150n * MS);
    expect(second.fence.signaled).toBe(true);
    expect(dmaFence.getStatus(second.fence)).toBe(1);
    const third = submit(sched, r, 150n * MS); // starts at 150, deadline 250
    clock.advance(99n * MS);
    expect(third.fence.signaled).toBe(false);
    clock.advance(1n * MS);
    expect(dmaFence.getStatus(third.fence)).toBe(-ETIMEDOUT);
  });

  it('a job whose duration equals the timeout completes without error', () => {
    const { clock, sched, ring } = setup(100n * MS);
    const job = submit(sched, ring('gfx'), 100n * MS);
    clock.advance(100n * MS);
    expect(dmaFence.getStatus(job.fence)).toBe(1);
  });

  it('an external engine is handed the job at start and its completion signals the fence', () => {
    const { clock, sched, ring } = setup();
    const seen: VgpuJobView[] = [];
    attachEngine(sched, 'gfx', { execute: (j) => seen.push(j) });
    const job = submit(sched, ring('gfx'), 5n * MS, [], 'draw');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id: job.view.id, label: 'draw', ring: 'gfx', fence: job.fence.id, durationNs: 5n * MS });
    clock.advance(50n * MS); // the modelled duration does not matter to an external engine
    expect(job.fence.signaled).toBe(false);
    expect(completeJob(sched, job.view.id)).toBe(0);
    expect(dmaFence.getStatus(job.fence)).toBe(1);
    expect(completeJob(sched, job.view.id)).toBe(-ENOENT);
  });

  it('an external engine can fail a job with an errno', () => {
    const { sched, ring } = setup();
    attachEngine(sched, 'gfx', { execute: () => {} });
    const job = submit(sched, ring('gfx'), 1n);
    expect(completeJob(sched, job.view.id, 5)).toBe(-EINVAL);
    expect(completeJob(sched, job.view.id, -EIO)).toBe(0);
    expect(dmaFence.getStatus(job.fence)).toBe(-EIO);
  });

  it('completeJob refuses jobs of the simulated engine and unknown ids', () => {
    const { sched, ring } = setup();
    const job = submit(sched, ring('gfx'), 1n);
    expect(completeJob(sched, job.view.id)).toBe(-ENOENT);
    expect(completeJob(sched, 999_999)).toBe(-ENOENT);
  });

  it('a late completion of a hung external job is ignored and the engine is told of the hang', () => {
    const { clock, sched, ring } = setup(10n * MS);
    const timedOut: number[] = [];
    attachEngine(sched, 'gfx', { execute: () => {}, timedOut: (j) => timedOut.push(j.id) });
    const job = submit(sched, ring('gfx'), 1n);
    clock.advance(10n * MS);
    expect(timedOut).toEqual([job.view.id]);
    expect(completeJob(sched, job.view.id)).toBe(-ENOENT);
    expect(dmaFence.getStatus(job.fence)).toBe(-ETIMEDOUT);
  });

  it('an engine attached before its ring exists runs that ring', () => {
    const { sched, ring } = setup();
    let runs = 0;
    attachEngine(sched, 'compositor', { execute: () => runs++ });
    submit(sched, ring('compositor'), 1n);
    expect(runs).toBe(1);
  });

  it('detaching hands the running job to the simulated engine, done at start + duration', () => {
    const { clock, sched, ring } = setup();
    attachEngine(sched, 'gfx', { execute: () => {} });
    const job = submit(sched, ring('gfx'), 8n * MS);
    clock.advance(3n * MS);
    detachEngine(sched, 'gfx');
    clock.advance(5n * MS - 1n);
    expect(job.fence.signaled).toBe(false);
    clock.advance(1n);
    expect(job.fence.timestamp).toBe(8n * MS);
  });

  it('job.done is reported before the fence signals', () => {
    const { clock, sched, ring, events } = setup();
    const job = submit(sched, ring('gfx'), 1n);
    clock.advance(1n);
    const done = events.findIndex((e) => e.type === 'job.done' && e.job === job.view.id);
    const signaled = events.findIndex((e) => e.type === 'fence.signaled' && e.fence === job.fence.id);
    expect(done).toBeGreaterThanOrEqual(0);
    expect(done).toBeLessThan(signaled);
  });

  it('ring stats count queued jobs and busy time', () => {
    const { clock, sched, ring, extFence } = setup();
    const gfx = ring('gfx');
    const dep = extFence();
    submit(sched, gfx, 2n * MS);
    submit(sched, gfx, 3n * MS, [dep]);
    expect(ringStats(sched, gfx)).toMatchObject({ queued: 2, submitted: 2, completed: 0, busyNs: 0n });
    clock.advance(1n * MS);
    expect(ringStats(sched, gfx).busyNs).toBe(1n * MS);
    clock.advance(4n * MS); // first done at 2 ms, second still waits on dep
    expect(ringStats(sched, gfx)).toMatchObject({ queued: 1, completed: 1, busyNs: 2n * MS, running: null });
    dmaFence.signal(dep);
    clock.advance(3n * MS);
    expect(ringStats(sched, gfx)).toMatchObject({ queued: 0, completed: 2, busyNs: 5n * MS });
  });

  it('ring names are unique; a closed ring drains its jobs, then disappears and frees its name', () => {
    const { clock, sched, ring } = setup();
    const r = ring('mine');
    expect(ringCreate(sched, 'mine', null)).toBe(-EEXIST);
    const job = submit(sched, r, 1n * MS);
    ringClose(sched, r);
    expect(sched.rings.has(r.id)).toBe(true);
    expect(typeof ringCreate(sched, 'mine', null)).toBe('object');
    clock.advance(1n * MS);
    expect(job.fence.signaled).toBe(true);
    expect(sched.rings.has(r.id)).toBe(false);
  });
});
