/**
 * DRM_IOCTL_SYNCOBJ_WAIT on binary syncobjs, after IGT syncobj_wait:
 * argument errors, the single/multi-wait matrix (ALL/ANY x unsubmitted/
 * submitted/signaled x WAIT_FOR_SUBMIT), delayed signals and submits on the
 * manual clock, the snapshot rule, first_signaled, absolute timeouts.
 */
import { describe, expect, it } from 'vitest';
import { EINVAL, ENOENT, ETIME } from '../../shared/kernel/errno';
import {
  DRM_IOCTL_SYNCOBJ_WAIT,
  DRM_SYNCOBJ_CREATE_SIGNALED,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
} from '../../shared/kernel/uapi';
import { isSettled, settle, SHORT_TIME_NSEC, SyncobjEnv, type Result } from './syncobj-helpers';

const ALL = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL;
const FOR_SUBMIT = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;

// IGT's test flags.
const T_FOR_SUBMIT = 1 << 0;
const T_ALL = 1 << 1;
const T_UNSUBMITTED = 1 << 2;
const T_SUBMITTED = 1 << 3;
const T_SIGNALED = 1 << 4;

function drmFlags(t: number): number {
  return (t & T_FOR_SUBMIT ? FOR_SUBMIT : 0) | (t & T_ALL ? ALL : 0);
}

function testName(prefix: string, kind: string, t: number, err: number): string {
  return (
    (err === -EINVAL ? 'invalid-' : err === -ETIME ? 'etime-' : '') +
    prefix +
    kind +
    (t & T_ALL ? '-all' : '') +
    (t & T_FOR_SUBMIT ? '-for-submit' : '') +
    (t & T_UNSUBMITTED ? '-unsubmitted' : '') +
    (t & T_SUBMITTED ? '-submitted' : '') +
    (t & T_SIGNALED ? '-signaled' : '')
  );
}

/** IGT's per-syncobj state assignment: lowest state bit first, the last one repeats. */
function prepare(env: SyncobjEnv, handles: number[], t: number): void {
  let states = t & (T_UNSUBMITTED | T_SUBMITTED | T_SIGNALED);
  for (const h of handles) {
    const tflag = states & -states;
    if (states & ~tflag) states &= ~tflag;
    if (tflag & (T_SUBMITTED | T_SIGNALED)) {
      const tl = env.attach(h);
      if (tflag & T_SIGNALED) env.inc(tl);
    }
  }
}

/**
 * The three waits IGT makes: a poll, a short absolute timeout (run out on
 * the manual clock when the answer is ETIME), and UINT64_MAX, which as an
 * s64 is -1: a time in the past, so a poll too.
 */
async function expectWaits(env: SyncobjEnv, run: (timeout: bigint) => Result, expected: number): Promise<void> {
  expect(run(0n)).toBe(expected);
  const r = run(env.timeout());
  if (expected === -ETIME) {
    expect(r).toBeInstanceOf(Promise);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.clock.advance(SHORT_TIME_NSEC);
    expect(await r).toBe(-ETIME);
  } else {
    expect(r).toBe(expected);
    expect(run(-1n)).toBe(expected);
  }
  expect(env.clock.pendingTimers()).toBe(0);
}

describe('syncobj_wait: arguments', () => {
  it('bad flags are -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.wait([], 0n, 0xdeadbeef).r).toBe(-EINVAL);
  });

  it('WAIT_AVAILABLE is rejected by the binary wait', () => {
    const env = new SyncobjEnv();
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    expect(env.wait([h], 0n, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE).r).toBe(-EINVAL);
  });

  it('zero handles is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.wait([], 0n, 0).r).toBe(-EINVAL);
  });

  it('an unknown handle is -ENOENT', () => {
    const env = new SyncobjEnv();
    expect(env.wait([0], 0n, 0).r).toBe(-ENOENT);
  });

  it('an unknown handle among good ones is -ENOENT', () => {
    const env = new SyncobjEnv();
    const a = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    expect(env.wait([a, 99], 0n, 0).r).toBe(-ENOENT);
  });

  it('WAIT_DEADLINE is accepted', () => {
    const env = new SyncobjEnv();
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    expect(env.wait([h], 0n, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE).r).toBe(0);
  });

  it('a missing fence is -EINVAL at once even when a sibling is signaled (ANY)', () => {
    const env = new SyncobjEnv();
    const signaled = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    const empty = env.create();
    expect(env.wait([signaled, empty], env.timeout(), 0).r).toBe(-EINVAL);
    expect(env.clock.pendingTimers()).toBe(0);
  });
});

describe('syncobj_wait: single wait', () => {
  for (let t = 0; t < 1 << 5; t++) {
    const states = t & (T_UNSUBMITTED | T_SUBMITTED | T_SIGNALED);
    if (states === 0 || (states & (states - 1)) !== 0) continue;
    const err = t & T_UNSUBMITTED && !(t & T_FOR_SUBMIT) ? -EINVAL : !(t & T_SIGNALED) ? -ETIME : 0;
    it(testName('single', '-wait', t, err), async () => {
      const env = new SyncobjEnv();
      const h = env.create();
      prepare(env, [h], t);
      await expectWaits(env, (timeout) => env.wait([h], timeout, drmFlags(t)).r, err);
    });
  }
});

describe('syncobj_wait: multi wait', () => {
  for (let t = 0; t < 1 << 5; t++) {
    if (!(t & (T_UNSUBMITTED | T_SUBMITTED | T_SIGNALED))) continue;
    let err = 0;
    if (t & T_UNSUBMITTED && !(t & T_FOR_SUBMIT)) err = -EINVAL;
    else if (t & T_ALL) err = t & (T_UNSUBMITTED | T_SUBMITTED) ? -ETIME : 0;
    else err = t & T_SIGNALED ? 0 : -ETIME;
    it(testName('multi', '-wait', t, err), async () => {
      const env = new SyncobjEnv();
      const handles = [env.create(), env.create(), env.create()];
      prepare(env, handles, t);
      await expectWaits(env, (timeout) => env.wait(handles, timeout, drmFlags(t)).r, err);
    });
  }
});

describe('syncobj_wait: delayed signal and submit', () => {
  for (const t of [0, T_ALL, T_FOR_SUBMIT, T_ALL | T_FOR_SUBMIT]) {
    const name = t & T_FOR_SUBMIT ? 'for-submit-delayed-submit' : 'delayed-signal';
    it(`wait${t & T_ALL ? '-all' : ''}-${name} completes when the signal comes`, async () => {
      const env = new SyncobjEnv();
      const h = env.create();
      if (t & T_FOR_SUBMIT) {
        env.clock.setTimer(env.timeout(), () => env.trigger(h));
      } else {
        const tl = env.attach(h);
        env.clock.setTimer(env.timeout(), () => env.inc(tl));
      }
      const { r } = env.wait([h], env.timeout(2n * SHORT_TIME_NSEC), drmFlags(t));
      expect(r).toBeInstanceOf(Promise);
      env.clock.advance(SHORT_TIME_NSEC - 1n);
      expect(await isSettled(r as Promise<number>)).toBe(false);
      env.clock.advance(1n);
      expect(await isSettled(r as Promise<number>)).toBe(true);
      expect(await r).toBe(0);
      expect(env.clock.pendingTimers()).toBe(0);
    });
  }

  it('reset during a wait for submit is a no-op; the later submit satisfies it', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.clock.setTimer(env.timeout(), () => {
      env.reset([h]);
      env.trigger(h);
    });
    const { r } = env.wait([h], env.timeout(2n * SHORT_TIME_NSEC), FOR_SUBMIT);
    env.clock.advance(SHORT_TIME_NSEC);
    expect(await r).toBe(0);
  });

  it('under WAIT_FOR_SUBMIT a reset alone does not satisfy the wait', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const { r } = env.wait([h], env.timeout(), FOR_SUBMIT);
    env.reset([h]);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.clock.advance(SHORT_TIME_NSEC);
    expect(await r).toBe(-ETIME);
  });

  it('an error-signaled fence counts as done', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.attach(h);
    const { r } = env.wait([h], env.timeout(), 0);
    env.proc.close(tl); // pending points signal with -ENOENT
    expect(await r).toBe(0);
  });

  it('a syncobj destroyed during the wait is still waited on', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.attach(h);
    const { r } = env.wait([h], env.timeout(), 0);
    expect(env.destroy(h)).toBe(0);
    env.inc(tl);
    expect(await r).toBe(0);
  });
});

describe('syncobj_wait: timeouts', () => {
  it('the timeout is absolute: a time already past polls', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.attach(h);
    expect(env.wait([h], env.now() - 1n, 0).r).toBe(-ETIME);
    expect(env.wait([h], env.now(), 0).r).toBe(-ETIME);
  });

  it('the wait ends with -ETIME exactly when the clock passes the absolute deadline', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.attach(h);
    const deadline = env.now() + 1_000n;
    const { r } = env.wait([h], deadline, 0);
    env.clock.advance(600n);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.clock.advanceTo(deadline - 1n);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.clock.advanceTo(deadline);
    expect(await r).toBe(-ETIME);
  });

  it('a signal in the same instant as the deadline still counts', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.attach(h);
    const deadline = env.timeout();
    const { r } = env.wait([h], deadline, 0);
    env.inc(tl);
    env.clock.advanceTo(deadline);
    expect(await r).toBe(0);
  });

  it('an infinite timeout arms no timer', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.attach(h);
    const { r } = env.wait([h], (1n << 63n) - 1n, 0);
    expect(env.clock.pendingTimers()).toBe(0);
    env.inc(tl);
    expect(await r).toBe(0);
  });

  it('a finished wait leaves no callback on its fences', async () => {
    const env = new SyncobjEnv();
    const a = env.create();
    const b = env.create();
    env.attach(a);
    const tlb = env.attach(b);
    const { r } = env.wait([a, b], env.timeout(), 0);
    env.inc(tlb);
    expect(await r).toBe(0);
    const file = env.proc.fget(env.fd);
    expect(file).toBeDefined();
    const so = (file?.priv as { syncobjs: Map<number, { fence: { cbs: Set<unknown> | null } | null }> }).syncobjs.get(a);
    expect(so?.fence?.cbs?.size).toBe(0);
  });
});

describe('syncobj_wait: first_signaled', () => {
  it('ANY at entry reports the lowest signaled index', () => {
    const env = new SyncobjEnv();
    const handles = [env.create(), env.create(), env.create()];
    env.attach(handles[0] as number);
    env.trigger(handles[1] as number);
    env.trigger(handles[2] as number);
    const { r, args } = env.wait(handles, 0n, 0);
    expect(r).toBe(0);
    expect(args.first_signaled).toBe(1);
  });

  it('ALL signaled at entry reports index 0', () => {
    const env = new SyncobjEnv();
    const handles = [env.create(DRM_SYNCOBJ_CREATE_SIGNALED), env.create(DRM_SYNCOBJ_CREATE_SIGNALED)];
    const { r, args } = env.wait(handles, 0n, ALL);
    expect(r).toBe(0);
    expect(args.first_signaled).toBe(0);
  });

  it('ALL that had to wait leaves first_signaled at 0xFFFFFFFF', async () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.attach(h);
    const { r, args } = env.wait([h], env.timeout(), ALL);
    env.inc(tl);
    expect(await r).toBe(0);
    expect(args.first_signaled).toBe(0xffff_ffff);
  });

  it('ANY after a burst of signals reports the lowest index done', async () => {
    const env = new SyncobjEnv();
    const tl = env.timeline();
    const a = env.create();
    const b = env.create();
    env.importSyncFile(a, env.swFence(tl, 2));
    env.importSyncFile(b, env.swFence(tl, 1));
    const { r, args } = env.wait([a, b], env.timeout(), 0);
    env.inc(tl, 2); // signals b's fence, then a's, in one call
    expect(await r).toBe(0);
    expect(args.first_signaled).toBe(0);
  });
});

/** IGT test_wait_snapshot on the manual clock. */
async function waitSnapshot(t: number): Promise<void> {
  const env = new SyncobjEnv();
  const s = [env.create(), env.create()] as const;
  const timelines: (number | null)[] = [null, null, null];
  if (!(t & T_FOR_SUBMIT)) {
    timelines[0] = env.attach(s[0]);
    timelines[1] = env.attach(s[1]);
  }
  const { r, args } = env.wait([...s], env.timeout(), drmFlags(t));
  expect(r).toBeInstanceOf(Promise);
  env.clock.advance(SHORT_TIME_NSEC / 5n);
  const tl0 = timelines[0];
  if (t & T_ALL) {
    if (tl0 === null || tl0 === undefined) env.trigger(s[0]);
    else env.inc(tl0);
  } else if (t & T_FOR_SUBMIT) {
    timelines[0] = env.attach(s[0]);
  }
  await settle();
  env.clock.advance(SHORT_TIME_NSEC / 5n);
  env.reset([s[0]]);
  await settle();
  env.clock.advance(SHORT_TIME_NSEC / 5n);
  // A fence that never signals: picking it up would end in ETIME.
  timelines[2] = env.attach(s[0]);
  await settle();
  env.clock.advance(SHORT_TIME_NSEC / 5n);
  const tl1 = timelines[1];
  if (tl1 === null || tl1 === undefined) env.trigger(s[1]);
  else env.inc(tl1);
  // Run out the clock: a wait that picked up the wrong fence ends in ETIME.
  await settle();
  env.clock.advance(SHORT_TIME_NSEC);
  expect(await r).toBe(0);
  if (!(t & T_ALL)) expect(args.first_signaled).toBe(1);
}

describe('syncobj_wait: snapshot', () => {
  it('wait-any-snapshot', () => waitSnapshot(0));
  it('wait-all-snapshot', () => waitSnapshot(T_ALL));
  it('wait-for-submit-snapshot', () => waitSnapshot(T_FOR_SUBMIT));
  it('wait-all-for-submit-snapshot', () => waitSnapshot(T_ALL | T_FOR_SUBMIT));
});

const SHUFFLED_0_7_X4 = [2, 0, 6, 1, 1, 4, 5, 2, 0, 7, 1, 7, 6, 3, 4, 5, 0, 2, 7, 3, 5, 4, 0, 6, 7, 3, 2, 5, 6, 1, 4, 3];

/** IGT test_wait_complex: 8 syncobjs (the wait takes the first 2) through submit, signal, reset, resubmit. */
async function waitComplex(t: number): Promise<void> {
  const env = new SyncobjEnv();
  const s = Array.from({ length: 8 }, () => env.create());
  const stage = s.map(() => 0);
  const timelines: (number | null)[] = s.map((h) => (t & T_FOR_SUBMIT ? null : env.attach(h)));
  const { r, args } = env.wait(s.slice(0, 2), env.now() + 1_000_000_000n, drmFlags(t));
  let firstSignaled = -1;
  let numSignaled = 0;
  env.clock.advance(20_000_000n);
  for (const i of SHUFFLED_0_7_X4) {
    const h = s[i] as number;
    switch (stage[i]!++) {
      case 0:
        if (t & T_FOR_SUBMIT) timelines[i] = env.attach(h);
        break;
      case 1: {
        const tl = timelines[i];
        if (tl === null || tl === undefined) throw new Error('no fence to signal');
        env.inc(tl);
        env.proc.close(tl);
        timelines[i] = null;
        if (numSignaled === 0) firstSignaled = i;
        numSignaled++;
        break;
      }
      case 2:
        env.reset([h]);
        break;
      case 3:
        timelines[i] = env.attach(h);
        break;
      default:
        throw new Error('should not reach this stage');
    }
    if (t & T_ALL ? numSignaled === s.length : numSignaled > 0) break;
    await settle();
    env.clock.advance(10_000_000n);
  }
  await settle();
  env.clock.advance(1_000_000_000n);
  expect(await r).toBe(0);
  if (t & T_ALL) expect(numSignaled).toBe(s.length);
  else {
    expect(numSignaled).toBe(1);
    expect(args.first_signaled).toBe(firstSignaled);
  }
}

describe('syncobj_wait: complex', () => {
  it('wait-any-complex', () => waitComplex(0));
  it('wait-all-complex', () => waitComplex(T_ALL));
  it('wait-for-submit-complex', () => waitComplex(T_FOR_SUBMIT));
  it('wait-all-for-submit-complex', () => waitComplex(T_ALL | T_FOR_SUBMIT));
});

describe('syncobj_wait: the model API', () => {
  it('a non-blocking outcome is a number, a blocking one a Promise', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.attach(h);
    const args = { handles: [h], timeout_nsec: env.timeout(), count_handles: 1, flags: 0, first_signaled: 0, pad: 0, deadline_nsec: 0n };
    expect(env.proc.ioctl(env.fd, DRM_IOCTL_SYNCOBJ_WAIT, { ...args, timeout_nsec: 0n })).toBe(-ETIME);
    expect(env.proc.ioctl(env.fd, DRM_IOCTL_SYNCOBJ_WAIT, args)).toBeInstanceOf(Promise);
  });
});
