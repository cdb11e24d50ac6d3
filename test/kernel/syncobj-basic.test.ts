/**
 * drm_syncobj objects, handles and fds: IGT syncobj_basic plus the
 * import/export and reset/signal checks of syncobj_wait, with Linux's
 * error codes.
 */
import { describe, expect, it } from 'vitest';
import * as dmaFence from '../../shared/kernel/dma-fence';
import { syncFileGetFence } from '../../shared/kernel/sync-file';
import { Kernel } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import type { KernelEvent } from '../../shared/kernel/events';
import { EFAULT, EINVAL, EMFILE, ENOENT, ENOTTY, ETIME } from '../../shared/kernel/errno';
import {
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_DESTROY,
  DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_RESET,
  DRM_IOCTL_SYNCOBJ_SIGNAL,
  DRM_IOCTL_SYNCOBJ_WAIT,
  DRM_SYNCOBJ_CREATE_SIGNALED,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
  DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
} from '../../shared/kernel/uapi';
import { SyncobjEnv } from './syncobj-helpers';

function fenceOf(env: SyncobjEnv, fd: number): dmaFence.DmaFence {
  const f = syncFileGetFence(env.proc.fget(fd));
  if (!f) throw new Error(`fd ${fd} is not a sync_file`);
  return f;
}

describe('syncobj_basic', () => {
  it('destroying an unknown handle is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.destroy(0xdeadbeef)).toBe(-EINVAL);
  });

  it('create with unknown flags is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_CREATE, { handle: 0, flags: 0xdeadbeef })).toBe(-EINVAL);
  });

  it('plain handle-to-fd of an unknown handle is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.handleToFd(0xdeadbeef).r).toBe(-EINVAL);
  });

  it('fd-to-handle of fd -1 is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.fdToHandle(-1).r).toBe(-EINVAL);
  });

  it('fd-to-handle of a file that is not a syncobj fd (the DRM fd) is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.fdToHandle(env.fd).r).toBe(-EINVAL);
  });

  it('bad flags are -EINVAL in both directions', () => {
    const env = new SyncobjEnv();
    expect(env.fdToHandle(0, 0xdeadbeef).r).toBe(-EINVAL);
    expect(env.handleToFd(0, 0xdeadbeef).r).toBe(-EINVAL);
  });

  it('a non-zero pad is -EINVAL in both directions', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, { handle: h, flags: 0, fd: -1, pad: 0xdeadbeef, point: 0n })).toBe(-EINVAL);
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, { handle: 0, flags: 0, fd: -1, pad: 0xdeadbeef, point: 0n })).toBe(-EINVAL);
  });

  it('destroy with a non-zero pad is -EINVAL and destroys nothing', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_DESTROY, { handle: h, pad: 0xdeadbeef })).toBe(-EINVAL);
    expect(env.destroy(h)).toBe(0);
  });

  it('a syncobj created signaled can be waited on at once', () => {
    const env = new SyncobjEnv();
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    expect(env.wait([h], 0n, 0).r).toBe(0);
  });

  it('importing an exported syncobj fd gives a new handle to the same syncobj', () => {
    const env = new SyncobjEnv();
    const first = env.create();
    const { fd } = env.handleToFd(first);
    const { r, handle: second } = env.fdToHandle(fd);
    expect(r).toBe(0);
    env.proc.close(fd);
    expect(second).not.toBe(first);
    expect(env.signal([first])).toBe(0);
    expect(env.wait([second], 0n, 0).r).toBe(0);
    expect(env.destroy(first)).toBe(0);
    expect(env.destroy(second)).toBe(0);
  });
});

describe('syncobj handles', () => {
  it('handles start at 1 and the lowest free one is reused', () => {
    const env = new SyncobjEnv();
    expect([env.create(), env.create(), env.create()]).toEqual([1, 2, 3]);
    expect(env.destroy(2)).toBe(0);
    expect(env.destroy(1)).toBe(0);
    expect(env.create()).toBe(1);
    expect(env.create()).toBe(2);
    expect(env.create()).toBe(4);
  });

  it('handle 0 is never valid', () => {
    const env = new SyncobjEnv();
    env.create();
    expect(env.wait([0], 0n, 0).r).toBe(-ENOENT);
    expect(env.destroy(0)).toBe(-EINVAL);
  });

  it('handles are per open file', () => {
    const env = new SyncobjEnv();
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    const fd2 = env.proc.open('/dev/dri/card0');
    const args = { handles: [h], timeout_nsec: 0n, count_handles: 1, flags: 0, first_signaled: 0, pad: 0, deadline_nsec: 0n };
    expect(env.proc.ioctl(fd2, DRM_IOCTL_SYNCOBJ_WAIT, args)).toBe(-ENOENT);
  });

  it('a syncobj fd keeps the syncobj alive after its DRM file is closed', () => {
    const env = new SyncobjEnv('producer');
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    const { fd } = env.handleToFd(h);
    const consumer = env.kernel.spawn('consumer');
    const passed = consumer.receiveFd(env.proc, fd);
    env.proc.close(fd);
    env.proc.close(env.fd);
    const card = consumer.open('/dev/dri/card0');
    const imp = { handle: 0, flags: 0, fd: passed, pad: 0, point: 0n };
    expect(consumer.ioctl(card, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, imp)).toBe(0);
    const wait = { handles: [imp.handle], timeout_nsec: 0n, count_handles: 1, flags: 0, first_signaled: 0, pad: 0, deadline_nsec: 0n };
    expect(consumer.ioctl(card, DRM_IOCTL_SYNCOBJ_WAIT, wait)).toBe(0);
  });

  it('a syncobj fd has no ioctls', () => {
    const env = new SyncobjEnv();
    const { fd } = env.handleToFd(env.create());
    expect(env.proc.ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, { handle: 0, flags: 0 })).toBe(-ENOTTY);
  });

  it('plain handle-to-fd with the TIMELINE flag needs point 0', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    expect(env.handleToFd(h, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE, 3n).r).toBe(-EINVAL);
    expect(env.handleToFd(h, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE, 0n).r).toBe(0);
  });

  it('plain fd-to-handle with the TIMELINE flag needs point 0', () => {
    const env = new SyncobjEnv();
    const { fd } = env.handleToFd(env.create());
    expect(env.fdToHandle(fd, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE, 0, 2n).r).toBe(-EINVAL);
    expect(env.fdToHandle(fd, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE, 0, 0n).r).toBe(0);
  });

  it('a handles array shorter than count_handles is -EFAULT', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    expect(env.ioctl(DRM_IOCTL_SYNCOBJ_RESET, { handles: [h], count_handles: 2, pad: 0 })).toBe(-EFAULT);
  });
});

describe('syncobj sync_file export', () => {
  it('exporting an unknown handle is -ENOENT', () => {
    const env = new SyncobjEnv();
    expect(env.handleToFd(77, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE).r).toBe(-ENOENT);
  });

  it('exporting a NULL syncobj is -EINVAL', () => {
    const env = new SyncobjEnv();
    expect(env.handleToFd(env.create(), DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE).r).toBe(-EINVAL);
  });

  it('export gives the syncobj fence itself', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const sw = env.swFence(tl, 1);
    expect(env.importSyncFile(h, sw)).toBe(0);
    expect(fenceOf(env, env.exportSyncFile(h))).toBe(fenceOf(env, sw));
  });

  it('an exported sync_file is a snapshot: a later reset does not change it', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const sw = env.swFence(tl, 1);
    env.importSyncFile(h, sw);
    const out = env.exportSyncFile(h);
    expect(env.reset([h])).toBe(0);
    expect(fenceOf(env, out)).toBe(fenceOf(env, sw));
    expect(env.handleToFd(h, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE).r).toBe(-EINVAL);
  });

  it('export reserves the fd first: a full fd table is -EMFILE even for an unknown handle', () => {
    const clock = new ManualClock();
    const kernel = new Kernel({ clock, limits: { maxFds: 1 } });
    const p = kernel.spawn('full');
    const card = p.open('/dev/dri/card0');
    expect(card).toBe(0);
    const exp = { handle: 9, flags: DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, fd: -1, pad: 0, point: 0n };
    expect(p.ioctl(card, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, exp)).toBe(-EMFILE);
    // The plain export looks the handle up first.
    expect(p.ioctl(card, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, { ...exp, flags: 0 })).toBe(-EINVAL);
    const create = { handle: 0, flags: 0 };
    p.ioctl(card, DRM_IOCTL_SYNCOBJ_CREATE, create);
    expect(p.ioctl(card, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, { ...exp, handle: create.handle, flags: 0 })).toBe(-EMFILE);
  });
});

describe('syncobj sync_file import', () => {
  it('importing something that is not a sync_file is -EINVAL', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const { fd: syncobjFd } = env.handleToFd(h);
    expect(env.importSyncFile(h, -1)).toBe(-EINVAL);
    expect(env.importSyncFile(h, env.fd)).toBe(-EINVAL);
    expect(env.importSyncFile(h, syncobjFd)).toBe(-EINVAL);
  });

  it('importing into an unknown handle is -ENOENT, but a bad fd is checked first', () => {
    const env = new SyncobjEnv();
    const tl = env.timeline();
    const sw = env.swFence(tl, 1);
    expect(env.importSyncFile(42, sw)).toBe(-ENOENT);
    expect(env.importSyncFile(42, -1)).toBe(-EINVAL);
  });

  it('import at point 0 replaces the fence', () => {
    const env = new SyncobjEnv();
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    const tl = env.timeline();
    const sw = env.swFence(tl, 1);
    expect(env.importSyncFile(h, sw)).toBe(0);
    expect(env.wait([h], 0n, 0).r).toBe(-ETIME);
    env.inc(tl);
    expect(env.wait([h], 0n, 0).r).toBe(0);
  });

  it('a point without the TIMELINE flag is ignored: the import replaces', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const sw = env.swFence(tl, 1);
    expect(env.fdToHandle(sw, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, h, 5n).r).toBe(0);
    expect(env.query1(h, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED)).toBe(0n);
    expect(fenceOf(env, env.exportSyncFile(h))).toBe(fenceOf(env, sw));
  });

  it('import at a timeline point adds a chain point', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    const tl = env.timeline();
    const sw = env.swFence(tl, 1);
    expect(env.importSyncFile(h, sw, 7n)).toBe(0);
    expect(env.query1(h, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED)).toBe(7n);
    expect(env.query1(h)).toBe(0n);
    env.inc(tl);
    expect(env.query1(h)).toBe(7n);
  });
});

describe('syncobj reset and signal', () => {
  for (const [name, request] of [
    ['RESET', DRM_IOCTL_SYNCOBJ_RESET],
    ['SIGNAL', DRM_IOCTL_SYNCOBJ_SIGNAL],
  ] as const) {
    it(`${name} with zero handles is -EINVAL`, () => {
      const env = new SyncobjEnv();
      expect(env.ioctl(request, { handles: [], count_handles: 0, pad: 0 })).toBe(-EINVAL);
    });

    it(`${name} of an unknown handle is -ENOENT`, () => {
      const env = new SyncobjEnv();
      expect(env.ioctl(request, { handles: [0], count_handles: 1, pad: 0 })).toBe(-ENOENT);
    });

    it(`${name} with a non-zero pad is -EINVAL`, () => {
      const env = new SyncobjEnv();
      expect(env.ioctl(request, { handles: [env.create()], count_handles: 1, pad: 0xdeadbeef })).toBe(-EINVAL);
    });
  }

  it('RESET with one unknown handle among good ones is -ENOENT and resets nothing', () => {
    const env = new SyncobjEnv();
    const a = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    const b = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    expect(env.reset([a, 0, b])).toBe(-ENOENT);
    expect(env.wait([a], 0n, 0).r).toBe(0);
    expect(env.wait([b], 0n, 0).r).toBe(0);
  });

  it('SIGNAL with one unknown handle among good ones is -ENOENT and signals nothing', () => {
    const env = new SyncobjEnv();
    const a = env.create();
    const b = env.create();
    expect(env.signal([a, 0, b])).toBe(-ENOENT);
    expect(env.wait([a], 0n, 0).r).toBe(-EINVAL);
    expect(env.wait([b], 0n, 0).r).toBe(-EINVAL);
  });

  it('reset of a signaled syncobj makes a plain wait -EINVAL again', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.trigger(h);
    expect(env.wait([h], 0n, 0).r).toBe(0);
    expect(env.reset([h])).toBe(0);
    expect(env.wait([h], 0n, 0).r).toBe(-EINVAL);
  });

  it('SIGNAL installs a fresh private stub timestamped now', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    env.clock.advance(1234n);
    expect(env.signal([h])).toBe(0);
    const f = fenceOf(env, env.exportSyncFile(h));
    expect(dmaFence.isStub(f)).toBe(true);
    expect(f).not.toBe(dmaFence.getStub(env.kernel.core));
    expect(f.timestamp).toBe(env.now());
    expect(dmaFence.getStatus(f)).toBe(1);
  });

  it('CREATE_SIGNALED installs a private stub timestamped at creation', () => {
    const env = new SyncobjEnv();
    env.clock.advance(99n);
    const h = env.create(DRM_SYNCOBJ_CREATE_SIGNALED);
    const t = env.now();
    env.clock.advance(5n);
    const f = fenceOf(env, env.exportSyncFile(h));
    expect(dmaFence.isStub(f)).toBe(true);
    expect(f.timestamp).toBe(t);
  });

  it('signal then a wait for submit succeeds at once', () => {
    const env = new SyncobjEnv();
    const h = env.create();
    expect(env.wait([h], 0n, 0).r).toBe(-EINVAL);
    expect(env.wait([h], 0n, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT).r).toBe(-ETIME);
    expect(env.signal([h])).toBe(0);
    expect(env.wait([h], 0n, 0).r).toBe(0);
    expect(env.wait([h], 0n, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT).r).toBe(0);
  });
});

describe('syncobj events', () => {
  it('replace and point changes are emitted with the acting process', () => {
    const env = new SyncobjEnv();
    const events: KernelEvent[] = [];
    env.kernel.subscribe((ev) => events.push(ev));
    const h = env.create();
    env.signal([h]);
    env.reset([h]);
    env.timelineSignal([h], [3n]);
    const so = events.filter((e) => e.type === 'syncobj.replace' || e.type === 'syncobj.point');
    expect(so.map((e) => e.type)).toEqual(['syncobj.replace', 'syncobj.replace', 'syncobj.point']);
    const [signal, reset, point] = so;
    expect(signal?.type === 'syncobj.replace' && signal.fence !== null && signal.pid === env.proc.pid).toBe(true);
    expect(reset?.type === 'syncobj.replace' && reset.fence === null).toBe(true);
    expect(point?.type === 'syncobj.point' && point.point === 3n && point.fence === dmaFence.getStub(env.kernel.core).id).toBe(
      true,
    );
  });

  it('a reset of an already empty syncobj emits nothing', () => {
    const env = new SyncobjEnv();
    const events: KernelEvent[] = [];
    const h = env.create();
    env.kernel.subscribe((ev) => events.push(ev));
    env.reset([h]);
    expect(events.filter((e) => e.type === 'syncobj.replace')).toEqual([]);
  });
});

describe('point without the TIMELINE flag', () => {
  it('a plain HANDLE_TO_FD or FD_TO_HANDLE with a non-zero point is -EINVAL, as Linux tests args->point', async () => {
    const { Kernel, ManualClock, DRM_IOCTL_SYNCOBJ_CREATE, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, EINVAL } = await import('../../shared/kernel/index');
    const k = new Kernel({ clock: new ManualClock() });
    const p = k.spawn('t');
    const drm = p.open('/dev/dri/card0');
    const c = { handle: 0, flags: 0 };
    p.ioctl(drm, DRM_IOCTL_SYNCOBJ_CREATE, c);
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, { handle: c.handle, flags: 0, fd: -1, pad: 0, point: 5n })).toBe(-EINVAL);
    const ok = { handle: c.handle, flags: 0, fd: -1, pad: 0, point: 0n };
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, ok)).toBe(0);
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, { handle: 0, flags: 0, fd: ok.fd, pad: 0, point: 5n })).toBe(-EINVAL);
  });
});
