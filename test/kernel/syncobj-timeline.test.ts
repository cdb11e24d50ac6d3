/**
 * Timeline syncobjs, after IGT syncobj_timeline: TIMELINE_SIGNAL, QUERY
 * (with and without LAST_SUBMITTED), TIMELINE_WAIT with WAIT_AVAILABLE,
 * unordered points, the 32-bit limit, and the argument errors.
 */
import { describe, expect, it } from 'vitest';
import { toChain } from '../../shared/kernel/dma-fence-chain';
import { EFAULT, EINVAL, ENOENT, ETIME } from '../../shared/kernel/errno';
import {
  DRM_IOCTL_SYNCOBJ_QUERY,
  DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
  DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
  DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
} from '../../shared/kernel/uapi';
import { isSettled, settle, SHORT_TIME_NSEC, SyncobjEnv, type Result } from './syncobj-helpers';

const ALL = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL;
const FOR_SUBMIT = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
const AVAILABLE = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE;
const LAST_SUBMITTED = DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED;

describe('syncobj_timeline: argument errors', () => {
  it('bad wait flags are -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.timelineWait([], [], 0n, 0xdeadbeef).r).toBe(-EINVAL);
  });

  it('a timeline wait on zero handles succeeds (newest IGT)', () => {
    const env = new SyncobjEnv();
    expect(env.timelineWait([], [], 0n, 0).r).toBe(0);
  });

  it('a timeline wait on an unknown handle is -ENOENT', () => {
    const env = new SyncobjEnv();
    expect(env.timelineWait([0], [0n], 0n, 0).r).toBe(-ENOENT);
  });

  it('a points array shorter than the handles is -EFAULT, after the handle lookup', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const args = { handles: [h, 9], points: [], timeout_nsec: 0n, count_handles: 2, flags: 0, first_signaled: 0, pad: 0, deadline_nsec: 0n };
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, args)).toBe(-ENOENT);
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, { ...args, handles: [h, h] })).toBe(-EFAULT);
  });

  it('query of zero handles is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, { handles: [], points: [], count_handles: 0, flags: 0 })).toBe(-EINVAL);
  });

  it('query of an unknown handle is -ENOENT', () => {
    const env = new SyncobjEnv();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, { handles: [0], points: [0n], count_handles: 1, flags: 0 })).toBe(-ENOENT);
  });

  it('query with one unknown handle among good ones is -ENOENT', () => {
    const env = new SyncobjEnv();
    const a = env.create();
    const b = env.create();
    env.timelineSignal([a], [1n]);
    env.timelineSignal([b], [1n]);
    const args = { handles: [a, 0, b], points: [0n, 0n, 0n], count_handles: 3, flags: 0 };
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, args)).toBe(-ENOENT);
  });

  it('query flags other than LAST_SUBMITTED are -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, { handles: [0], points: [0n], count_handles: 1, flags: 0xdeadbeef })).toBe(
      -EINVAL,
    );
  });

  it('query writes what fits and then fails -EFAULT', () => {
    const env = new SyncobjEnv();
    const a = env.create();
    env.timelineSignal([a], [4n]);
    const points = [0n];
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, { handles: [a, a], points, count_handles: 2, flags: 0 })).toBe(-EFAULT);
    expect(points).toEqual([4n]);
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, { handles: [a], points: null, count_handles: 1, flags: 0 })).toBe(-EFAULT);
  });

  it('timeline signal of zero handles is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.timelineSignal([], [])).toBe(-EINVAL);
  });

  it('timeline signal of an unknown handle is -ENOENT (also with a point array)', () => {
    const env = new SyncobjEnv();
    expect(env.timelineSignal([0], null)).toBe(-ENOENT);
    expect(env.timelineSignal([1], [0n])).toBe(-ENOENT);
  });

  it('timeline signal with one unknown handle is -ENOENT and signals nothing', () => {
    const env = new SyncobjEnv();
    const a = env.create();
    const b = env.create();
    env.timelineSignal([a, b], [1n, 1n]);
    expect(env.timelineSignal([a, 0, b], [2n, 2n, 2n])).toBe(-ENOENT);
    expect(env.query([a, b], LAST_SUBMITTED)).toEqual([1n, 1n]);
  });

  it('timeline signal with flags is -EINVAL', () => {
    const env = new SyncobjEnv();
    const args = { handles: [0], points: null, count_handles: 1, flags: 0xdeadbeef };
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, args)).toBe(-EINVAL);
  });

  it('timeline signal with a short points array is -EFAULT', () => {
    const env = new SyncobjEnv();
    const a = env.create();
    const args = { handles: [a, a], points: [1n], count_handles: 2, flags: 0 };
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, args)).toBe(-EFAULT);
  });
});

describe('syncobj_timeline: signal and query', () => {
  it('signal-array: points 1,1,1 and a binary point 0', () => {
    const env = new SyncobjEnv();
    const s = [env.create(), env.create(), env.create(), env.create()];
    expect(env.timelineSignal(s, [1n, 1n, 1n, 0n])).toBe(0);
    expect(env.timelineWait(s.slice(0, 3), [1n, 1n, 1n], 0n, 0).r).toBe(0);
    expect(env.wait([s[3] as number], 0n, 0).r).toBe(0);
  });

  it('NULL points signal point 0 on every handle', () => {
    const env = new SyncobjEnv();
    const s = [env.create(), env.create()];
    expect(env.timelineSignal(s, null)).toBe(0);
    expect(env.wait(s, 0n, ALL).r).toBe(0);
    // Point 0 still goes through a chain node (seqno 0).
    expect(toChain(env.syncobj(s[0] as number).fence)?.seqno).toBe(0n);
  });

  it('signal-point-0 works with timeline and binary waits', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.timelineSignal([h], [0n]);
    expect(env.timelineWait([h], [0n], 0n, 0).r).toBe(0);
    expect(env.wait([h], 0n, FOR_SUBMIT).r).toBe(0);
  });

  it('signal: a timeline point signaled from the host', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    expect(env.timelineWait([h], [1n], 0n, 0).r).toBe(-EINVAL);
    expect(env.timelineWait([h], [1n], 0n, FOR_SUBMIT).r).toBe(-ETIME);
    env.timelineSignal([h], [1n]);
    expect(env.timelineWait([h], [1n], 0n, 0).r).toBe(0);
    expect(env.timelineWait([h], [1n], 0n, FOR_SUBMIT).r).toBe(0);
  });

  it('query of a binary syncobj is 0, with or without LAST_SUBMITTED', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.signal([h]);
    expect(env.query1(h)).toBe(0n);
    expect(env.query1(h, LAST_SUBMITTED)).toBe(0n);
  });

  it('host-signal-points: each signaled point becomes the timeline value', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    let value = 0n;
    let seed = 12345;
    for (let i = 0; i < 100; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      value += BigInt(seed);
      env.timelineSignal([h], [value]);
      const q = env.query1(h);
      expect(q).toBe(value);
      expect(env.timelineWait([h], [q], 0n, ALL).r).toBe(0);
      expect(env.timelineWait([h], [q - 1n], 0n, FOR_SUBMIT).r).toBe(0);
    }
  });

  it('query after partial signaling is the last contiguous completed point', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tls = [env.timeline(), env.timeline(), env.timeline()];
    tls.forEach((tl, i) => env.attachFence(h, BigInt(i + 1) * 10n, tl, 1));
    expect(env.query1(h)).toBe(0n);
    env.inc(tls[1] as number); // point 20 done, 10 still pending
    expect(env.query1(h)).toBe(0n);
    env.inc(tls[0] as number);
    expect(env.query1(h)).toBe(20n);
    expect(env.query1(h, LAST_SUBMITTED)).toBe(30n);
    env.inc(tls[2] as number);
    expect(env.query1(h)).toBe(30n);
  });

  it('host-signal-ordered: a host point above pending device points waits for them', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    for (let i = 0; i < 5; i++) env.attachFence(h, BigInt(i + 1), tl, i + 1);
    env.inc(tl, 3);
    expect(env.query1(h)).toBe(3n);
    env.timelineSignal([h], [8n]);
    expect(env.query1(h)).toBe(3n);
    env.inc(tl, 5);
    expect(env.query1(h)).toBe(8n);
  });

  it('device-signal-unordered: the value only grows while points complete out of order', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const pointIndices = [0, 2, 1, 4, 3];
    const fences: number[] = [];
    pointIndices.forEach((p, i) => (fences[p] = env.swFence(tl, i + 1)));
    fences.forEach((fence, i) => {
      const tmp = env.create();
      env.importSyncFile(tmp, fence);
      env.transfer(h, BigInt(i + 1), tmp, 0n);
      env.destroy(tmp);
    });
    const signaled = pointIndices.map(() => false);
    let value = 0n;
    for (let i = 0; i < pointIndices.length; i++) {
      env.inc(tl);
      signaled[pointIndices[i] as number] = true;
      let minValue = 0n;
      for (let j = 0; j < signaled.length && signaled[j]; j++) minValue = BigInt(j);
      const q = env.query1(h);
      expect(q >= minValue).toBe(true);
      expect(q >= value).toBe(true);
      value = q > value ? q : value;
      expect(env.timelineWait([h], [q], 0n, ALL).r).toBe(0);
      expect(env.timelineWait([h], [q], 0n, FOR_SUBMIT).r).toBe(0);
    }
    expect(value).toBe(5n);
  });

  it('out-of-order points 1, 5, 3: the head is 5 in a new context, and QUERY follows it', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    env.attachFence(h, 1n, tl, 1);
    env.attachFence(h, 5n, tl, 2);
    const ordered = toChain(env.syncobj(h).fence);
    env.attachFence(h, 3n, tl, 3);
    const head = toChain(env.syncobj(h).fence);
    expect(head?.seqno).toBe(5n);
    expect(head?.prevSeqno).toBe(0n);
    expect(head?.context).not.toBe(ordered?.context);
    expect(env.query1(h, LAST_SUBMITTED)).toBe(5n);
    env.inc(tl, 1);
    // Point 1 is done, but the head's context starts at the unordered node.
    expect(env.query1(h)).toBe(0n);
    // And point 1 now resolves to that head: waiting on it waits for everything.
    expect(env.timelineWait([h], [1n], 0n, 0).r).toBe(-ETIME);
    env.inc(tl, 2);
    expect(env.query1(h)).toBe(5n);
    expect(env.timelineWait([h], [1n], 0n, 0).r).toBe(0);
  });

  it('device-submit-unordered: points 1,5,3,6,7 with 1,5,3 signaled query as 5', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    [1n, 5n, 3n, 6n, 7n].forEach((p, i) => env.attachFence(h, p, tl, i + 1));
    env.inc(tl, 3);
    const q = env.query1(h);
    expect(q).toBe(5n);
    expect(env.timelineWait([h], [q], 0n, FOR_SUBMIT).r).toBe(0);
    expect(env.timelineWait([h], [q], 0n, ALL).r).toBe(0);
  });

  it('an unordered point can pull QUERY back to 0 (the kernel warns about it)', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.timelineSignal([h], [5n]);
    expect(env.query1(h)).toBe(5n);
    const tl = env.timeline();
    env.attachFence(h, 3n, tl, 1);
    expect(env.query1(h)).toBe(0n);
    expect(env.query1(h, LAST_SUBMITTED)).toBe(5n);
  });

  it('32bits-limit: 64-bit chain seqnos keep one context and a growing value', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const limit = (1n << 31n) - 1n;
    const points = [1n, 5n, limit + 5n, limit + 6n, limit * 2n];
    points.forEach((p, i) => env.attachFence(h, p, tl, i + 1));
    const contexts = new Set<bigint>();
    for (let c = toChain(env.syncobj(h).fence); c; c = toChain(c.prev)) contexts.add(c.context);
    expect(contexts.size).toBe(1);
    let last = 0n;
    for (const p of points) {
      env.inc(tl);
      const q = env.query1(h);
      expect(q >= last).toBe(true);
      expect(q).toBe(p);
      last = q;
    }
  });

  it('a point above 0 on a syncobj holding a plain fence is unsubmitted', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.signal([h]);
    expect(env.timelineWait([h], [1n], 0n, 0).r).toBe(-EINVAL);
    expect(env.timelineWait([h], [0n], 0n, 0).r).toBe(0);
  });
});

// IGT's timeline test flags.
const T_FOR_SUBMIT = 1 << 0;
const T_ALL = 1 << 1;
const T_AVAILABLE = 1 << 2;
const T_UNSUBMITTED = 1 << 3;
const T_SUBMITTED = 1 << 4;
const T_SIGNALED = 1 << 5;
const STATES = T_UNSUBMITTED | T_SUBMITTED | T_SIGNALED;

function drmFlags(t: number): number {
  return (t & T_FOR_SUBMIT ? FOR_SUBMIT : 0) | (t & T_AVAILABLE ? AVAILABLE : 0) | (t & T_ALL ? ALL : 0);
}

function testName(kind: string, t: number, err: number): string {
  return (
    (err === -EINVAL ? 'invalid-' : err === -ETIME ? 'etime-' : '') +
    kind +
    (t & T_ALL ? '-all' : '') +
    (t & T_FOR_SUBMIT ? '-for-submit' : '') +
    (t & T_AVAILABLE ? '-available' : '') +
    (t & T_UNSUBMITTED ? '-unsubmitted' : '') +
    (t & T_SUBMITTED ? '-submitted' : '') +
    (t & T_SIGNALED ? '-signaled' : '')
  );
}

function prepare(env: SyncobjEnv, handles: number[], points: bigint[], t: number): void {
  let states = t & STATES;
  handles.forEach((h, i) => {
    const tflag = states & -states;
    if (states & ~tflag) states &= ~tflag;
    if (tflag & (T_SUBMITTED | T_SIGNALED)) {
      const tl = env.attach(h, points[i] as bigint);
      if (tflag & T_SIGNALED) env.inc(tl);
    }
  });
}

async function expectWaits(env: SyncobjEnv, run: (timeout: bigint) => Result, expected: number): Promise<void> {
  expect(run(0n)).toBe(expected);
  const r = run(env.timeout());
  if (expected === -ETIME) {
    expect(r).toBeInstanceOf(Promise);
    env.clock.advance(SHORT_TIME_NSEC);
    expect(await r).toBe(-ETIME);
  } else {
    expect(r).toBe(expected);
    expect(run(-1n)).toBe(expected);
  }
  expect(env.clock.pendingTimers()).toBe(0);
}

describe('syncobj_timeline: single wait', () => {
  for (let t = 0; t < 1 << 6; t++) {
    const states = t & STATES;
    if (states === 0 || (states & (states - 1)) !== 0) continue;
    let err = 0;
    if (t & T_UNSUBMITTED && !(t & (T_FOR_SUBMIT | T_AVAILABLE))) err = -EINVAL;
    else if (!(t & T_SIGNALED) && !(t & T_SUBMITTED && t & T_AVAILABLE)) err = -ETIME;
    it(testName('single-wait', t, err), async () => {
      const env = new SyncobjEnv();
      const h = env.create();
      prepare(env, [h], [1n], t);
      await expectWaits(env, (timeout) => env.timelineWait([h], [1n], timeout, drmFlags(t)).r, err);
    });
  }
});

describe('syncobj_timeline: multi wait', () => {
  // IGT draws 1 + rand() % 1000 for the timeline entries; 0 marks a binary one.
  const points = [17n, 0n, 503n, 999n, 0n];
  for (let t = 0; t < 1 << 6; t++) {
    if (!(t & STATES)) continue;
    let err = 0;
    if (t & T_UNSUBMITTED && !(t & (T_FOR_SUBMIT | T_AVAILABLE))) err = -EINVAL;
    else if (t & T_ALL) {
      if (t & (T_UNSUBMITTED | T_SUBMITTED)) err = -ETIME;
      if (!(t & T_UNSUBMITTED) && t & T_SUBMITTED && t & T_AVAILABLE) err = 0;
    } else if (!(t & T_SIGNALED) && !(t & T_SUBMITTED && t & T_AVAILABLE)) err = -ETIME;
    it(testName('multi-wait', t, err), async () => {
      const env = new SyncobjEnv();
      const handles = points.map(() => env.create());
      prepare(env, handles, points, t);
      await expectWaits(env, (timeout) => env.timelineWait(handles, points, timeout, drmFlags(t)).r, err);
    });
  }
});

describe('syncobj_timeline: waits over time', () => {
  for (const t of [0, T_ALL, T_FOR_SUBMIT, T_ALL | T_FOR_SUBMIT]) {
    const name = t & T_FOR_SUBMIT ? 'for-submit-delayed-submit' : 'delayed-signal';
    it(`wait${t & T_ALL ? '-all' : ''}-${name}`, async () => {
      const env = new SyncobjEnv();
      const h = env.create();
      if (t & T_FOR_SUBMIT) {
        env.clock.setTimer(env.timeout(), () => env.trigger(h, 1n));
      } else {
        const tl = env.attach(h, 1n);
        env.clock.setTimer(env.timeout(), () => env.inc(tl));
      }
      const { r } = env.timelineWait([h], [1n], env.timeout(2n * SHORT_TIME_NSEC), drmFlags(t));
      expect(r).toBeInstanceOf(Promise);
      env.clock.advance(SHORT_TIME_NSEC);
      expect(await isSettled(r as Promise<number>)).toBe(true);
      expect(await r).toBe(0);
    });
  }

  it('reset-during-wait-for-submit', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.clock.setTimer(env.timeout(), () => {
      env.reset([h]);
      env.trigger(h, 1n);
    });
    const { r } = env.timelineWait([h], [1n], env.timeout(2n * SHORT_TIME_NSEC), FOR_SUBMIT);
    env.clock.advance(SHORT_TIME_NSEC);
    await settle();
    env.clock.advance(SHORT_TIME_NSEC);
    expect(await r).toBe(0);
  });

  it('WAIT_AVAILABLE on an unsubmitted point waits, then ETIME at the deadline', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const { r } = env.timelineWait([h], [3n], env.timeout(), AVAILABLE);
    expect(r).toBeInstanceOf(Promise);
    env.timelineSignal([h], [2n]); // not far enough
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.clock.advance(SHORT_TIME_NSEC);
    expect(await r).toBe(-ETIME);
  });

  it('WAIT_AVAILABLE is satisfied by a pending fence at the point', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const { r, args } = env.timelineWait([h], [3n], env.timeout(), AVAILABLE);
    env.attach(h, 3n); // submitted, never signaled
    expect(await r).toBe(0);
    expect(args.first_signaled).toBe(0);
  });

  it('a wait for submit on a later point is woken only once it is reached', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const { r } = env.timelineWait([h], [10n], env.timeout(), FOR_SUBMIT);
    env.timelineSignal([h], [4n]);
    env.timelineSignal([h], [9n]);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.timelineSignal([h], [12n]);
    expect(await r).toBe(0);
  });

  it('ALL over many points of one timeline completes when the last one signals', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const n = 200;
    for (let i = 1; i <= n; i++) env.attachFence(h, BigInt(i), tl, i);
    const points = Array.from({ length: n }, (_, i) => BigInt(n - i));
    const { r } = env.timelineWait(points.map(() => h), points, env.timeout(), ALL);
    env.inc(tl, n - 1);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.inc(tl, 1);
    expect(await r).toBe(0);
  });

  it('the snapshot rule holds for timeline entries', async () => {
    const env = new SyncobjEnv();
    const a = env.create();
    const b = env.create();
    env.attach(a, 1n);
    const tlb = env.attach(b, 1n);
    const { r, args } = env.timelineWait([a, b], [1n, 1n], env.timeout(), 0);
    env.reset([a]);
    env.timelineSignal([a], [1n]); // a signaled point 1 now, but the entry kept the old fence
    await settle();
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.inc(tlb);
    expect(await r).toBe(0);
    expect(args.first_signaled).toBe(1);
  });
});
