/**
 * DRM_IOCTL_SYNCOBJ_TRANSFER (binary <-> timeline, flattening, waiting for
 * submission) and sync_file export/import at timeline points.
 */
import { describe, expect, it } from 'vitest';
import * as dmaFence from '../../shared/kernel/dma-fence';
import { toArray } from '../../shared/kernel/dma-fence-array';
import { toChain } from '../../shared/kernel/dma-fence-chain';
import { EINVAL, ENOENT, ETIME } from '../../shared/kernel/errno';
import {
  DRM_IOCTL_SYNCOBJ_TRANSFER,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
  DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
  POLLIN,
} from '../../shared/kernel/uapi';
import { isSettled, SyncobjEnv } from './syncobj-helpers';

const FOR_SUBMIT = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
const LAST_SUBMITTED = DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED;
const FIVE_SECONDS = 5_000_000_000n;

describe('syncobj transfer: errors', () => {
  it('a non-zero pad is -EINVAL', () => {
    const env = new SyncobjEnv();
    const args = { src_handle: 0, dst_handle: 0, src_point: 0n, dst_point: 0n, flags: 0, pad: 0xdeadbeef };
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_TRANSFER, args)).toBe(-EINVAL);
  });

  it('unknown handles are -ENOENT', () => {
    const env = new SyncobjEnv();
    expect(env.transfer(0, 0n, 0, 1n)).toBe(-ENOENT);
  });

  it('the destination is looked up before the flags are checked, the source after', () => {
    const env = new SyncobjEnv();
    const dst = env.create();
    expect(env.transfer(77, 1n, 78, 0n, 0xdeadbeef)).toBe(-ENOENT);
    expect(env.transfer(dst, 1n, 78, 0n, 0xdeadbeef)).toBe(-EINVAL);
    expect(env.transfer(dst, 1n, 78, 0n, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL)).toBe(-EINVAL);
    expect(env.transfer(dst, 1n, 78, 0n, 0)).toBe(-ENOENT);
  });

  it('a missing source fence or point is -EINVAL without WAIT_FOR_SUBMIT', () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    expect(env.transfer(dst, 0n, src, 0n)).toBe(-EINVAL);
    env.timelineSignal([src], [2n]);
    expect(env.transfer(dst, 0n, src, 3n)).toBe(-EINVAL);
    expect(env.syncobj(dst).fence).toBeNull();
  });

  it('transferring an existing point to a later one on the same timeline works', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.timelineSignal([h], [63n]);
    expect(env.transfer(h, 74n, h, 63n)).toBe(0);
    expect(env.query1(h)).toBe(74n);
  });
});

describe('syncobj transfer: binary and timeline', () => {
  it('binary to timeline puts the fence itself at the point', () => {
    const env = new SyncobjEnv();
    const bin = env.create();
    const tl = env.create();
    const sw = env.swFence(env.timeline(), 1);
    env.importSyncFile(bin, sw);
    expect(env.transfer(tl, 1n, bin, 0n)).toBe(0);
    const node = toChain(env.syncobj(tl).fence);
    expect(node?.seqno).toBe(1n);
    expect(node?.fence).toBe(env.fenceOf(sw));
  });

  it('timeline to binary replaces the fence with the node found at the point', () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    const swTl = env.timeline();
    env.attachFence(src, 1n, swTl, 1);
    env.attachFence(src, 2n, swTl, 2);
    const head = env.syncobj(src).fence;
    const atOne = toChain(head)?.prev;
    expect(env.transfer(dst, 0n, src, 1n)).toBe(0);
    expect(env.syncobj(dst).fence).toBe(atOne);
    expect(env.wait([dst], 0n, 0).r).toBe(-ETIME);
    env.inc(swTl, 1);
    expect(env.wait([dst], 0n, 0).r).toBe(0);
  });

  it('timeline to timeline flattens the source point through unwrap-merge', () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    const tlA = env.timeline();
    const tlB = env.timeline();
    env.attachFence(src, 1n, tlA, 1);
    env.attachFence(src, 2n, tlB, 1);
    expect(env.transfer(dst, 5n, src, 2n)).toBe(0);
    const node = toChain(env.syncobj(dst).fence);
    expect(node?.seqno).toBe(5n);
    const array = node ? toArray(node.fence) : undefined;
    expect(array?.fences.length).toBe(2);
    expect(array?.fences.every((f) => toChain(f) === undefined)).toBe(true);
  });

  it('a signaled source point is transferred as a signaled private stub', () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    env.timelineSignal([src], [1n]);
    expect(env.transfer(dst, 1n, src, 1n)).toBe(0);
    const inner = toChain(env.syncobj(dst).fence)?.fence;
    expect(inner && dmaFence.isStub(inner)).toBe(true);
    expect(inner).not.toBe(dmaFence.getStub(env.kernel.core));
    expect(env.query1(dst)).toBe(1n);
  });

  it('transfer-timeline-point (IGT)', () => {
    const env = new SyncobjEnv();
    const swTl = env.timeline();
    const h = env.create();
    env.attachFence(h, 1n, swTl, 1);
    expect(env.query1(h)).toBe(0n);
    expect(env.timelineWait([h], [1n], 0n, FOR_SUBMIT).r).toBe(-ETIME);
    env.inc(swTl, 1);
    expect(env.query1(h)).toBe(1n);
    expect(env.timelineWait([h], [1n], 0n, FOR_SUBMIT).r).toBe(0);
    env.timelineSignal([h], [2n]);
    expect(env.transfer(h, 3n, h, 2n)).toBe(0);
    expect(env.query1(h)).toBe(3n);
  });
});

describe('syncobj transfer: WAIT_FOR_SUBMIT', () => {
  it('waits for the source point to be submitted', async () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    const r = env.transfer(dst, 1n, src, 2n, FOR_SUBMIT);
    expect(r).toBeInstanceOf(Promise);
    env.timelineSignal([src], [1n]);
    expect(await isSettled(r as Promise<number>)).toBe(false);
    env.timelineSignal([src], [2n]);
    expect(await r).toBe(0);
    expect(env.query1(dst, LAST_SUBMITTED)).toBe(1n);
    expect(env.clock.pendingTimers()).toBe(0);
  });

  it('gives up with -ETIME after 5 s', async () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    const r = env.transfer(dst, 0n, src, 0n, FOR_SUBMIT) as Promise<number>;
    env.clock.advance(FIVE_SECONDS - 1n);
    expect(await isSettled(r)).toBe(false);
    env.clock.advance(1n);
    expect(await r).toBe(-ETIME);
    expect(env.syncobj(dst).fence).toBeNull();
  });

  it('does not block when the point is already there', () => {
    const env = new SyncobjEnv();
    const src = env.create();
    const dst = env.create();
    env.signal([src]);
    expect(env.transfer(dst, 0n, src, 0n, FOR_SUBMIT)).toBe(0);
    expect(env.syncobj(dst).fence).toBe(env.syncobj(src).fence);
  });
});

describe('syncobj sync_file at a timeline point', () => {
  it('export at a point gives the fence for that point', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const swTl = env.timeline();
    env.attachFence(h, 1n, swTl, 1);
    env.attachFence(h, 2n, swTl, 2);
    const one = env.exportSyncFile(h, 1n);
    expect(env.fenceOf(one)).toBe(toChain(env.syncobj(h).fence)?.prev);
    const pfd = [{ fd: one, events: POLLIN, revents: 0 }];
    return env.proc.poll(pfd, 0).then((n) => {
      expect(n).toBe(0);
      env.inc(swTl, 1);
      return env.proc.poll(pfd, 0).then((m) => expect(m).toBe(1));
    });
  });

  it('export at an unsubmitted point is -EINVAL', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.timelineSignal([h], [2n]);
    const flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE | DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE;
    expect(env.handleToFd(h, flags, 3n).r).toBe(-EINVAL);
  });

  it('export at a point already signaled and collected is the stub', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const swTl = env.timeline();
    env.attachFence(h, 1n, swTl, 1);
    env.attachFence(h, 2n, swTl, 2);
    env.inc(swTl, 2);
    env.attachFence(h, 3n, swTl, 3);
    expect(env.fenceOf(env.exportSyncFile(h, 1n))).toBe(dmaFence.getStub(env.kernel.core));
  });

  it('without the TIMELINE flag the point is ignored and the head is exported', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.timelineSignal([h], [1n]);
    env.timelineSignal([h], [2n]);
    const { r, fd } = env.handleToFd(h, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, 1n);
    expect(r).toBe(0);
    expect(env.fenceOf(fd)).toBe(env.syncobj(h).fence);
  });

  it('import at a point and export at the same point round-trip the chain node', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const sw = env.swFence(env.timeline(), 1);
    expect(env.importSyncFile(h, sw, 4n)).toBe(0);
    const out = env.fenceOf(env.exportSyncFile(h, 4n));
    expect(toChain(out)?.fence).toBe(env.fenceOf(sw));
  });
});
