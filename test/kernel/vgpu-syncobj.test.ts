import { describe, expect, it } from 'vitest';
import { EBADF, EFAULT, EINVAL, ENOENT } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import type { Process } from '../../shared/kernel/process';
import {
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_QUERY,
  DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
  DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED,
} from '../../shared/kernel/uapi';
import { VGPU_BO_WRITE, VGPU_SYNCOBJ_RESET } from '../../shared/kernel/vgpu-drm';
import { MS, client, fenceInfo, ringNew, setup, submit, submitOk, swFence } from './vgpu-helpers';

function syncobj(p: Process, drm: number): number {
  const c = { handle: 0, flags: 0 };
  expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_CREATE, c)).toBe(0);
  return c.handle;
}

/** HANDLE_TO_FD with EXPORT_SYNC_FILE at a point: the sync_file fd or -errno. */
function exportPoint(p: Process, drm: number, handle: number, point = 0n): number {
  const flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE | (point ? DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE : 0);
  const a = { handle, flags, fd: -1, pad: 0, point };
  const r = p.ioctl(drm, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, a);
  return r === 0 ? a.fd : (r as number);
}

/** FD_TO_HANDLE with IMPORT_SYNC_FILE: put a sync_file's fence in a binary syncobj. */
function importBinary(p: Process, drm: number, handle: number, fd: number): void {
  const a = { handle, flags: DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, fd, pad: 0, point: 0n };
  expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, a)).toBe(0);
}

function starts(events: KernelEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'job.start' ? [`${e.label}@${e.t / MS}`] : []));
}

describe('vgpu syncobjs', () => {
  it('an out-syncobj at point 0 gets the job fence (binary replace)', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    submitOk(p, drm, { out_syncobjs: [{ handle: so, flags: 0, point: 0n }], duration_ns: 2n * MS });
    const fd = exportPoint(p, drm, so);
    expect(fenceInfo(p, fd)).toMatchObject({ driver_name: 'vgpu', obj_name: 'gfx', status: 0 });
    clock.advance(2n * MS);
    expect(fenceInfo(p, fd).status).toBe(1);
  });

  it('an out-syncobj at point N adds a timeline point', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    submitOk(p, drm, { out_syncobjs: [{ handle: so, flags: 0, point: 3n }], duration_ns: 2n * MS });
    const q = { handles: [so], points: [0n], count_handles: 1, flags: DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED };
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_QUERY, q)).toBe(0);
    expect(q.points).toEqual([3n]);
    clock.advance(2n * MS);
    const done = { handles: [so], points: [0n], count_handles: 1, flags: 0 };
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_QUERY, done)).toBe(0);
    expect(done.points).toEqual([3n]);
  });

  it('an in-syncobj (binary) is a dependency', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const sw = swFence(p);
    const so = syncobj(p, drm);
    importBinary(p, drm, so, sw.fd);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    submitOk(p, drm, { in_syncobjs: [{ handle: so, flags: 0, point: 0n }], label: 'gated' });
    clock.advance(3n * MS);
    expect(starts(events)).toEqual([]);
    sw.signal();
    expect(starts(events)).toEqual(['gated@3']);
  });

  it('an in-syncobj timeline point produced by another job orders the jobs across rings', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    const other = ringNew(p, drm, 'other');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    submitOk(p, drm, { out_syncobjs: [{ handle: so, flags: 0, point: 1n }], duration_ns: 4n * MS, label: 'produce' });
    submitOk(p, drm, { ring: other, in_syncobjs: [{ handle: so, flags: 0, point: 1n }], label: 'consume' });
    clock.advance(10n * MS);
    expect(starts(events)).toEqual(['produce@0', 'consume@4']);
  });

  it('VGPU_SYNCOBJ_RESET resets the in-syncobj once the job is queued', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    const sw = swFence(p);
    const so = syncobj(p, drm);
    importBinary(p, drm, so, sw.fd);
    submitOk(p, drm, { in_syncobjs: [{ handle: so, flags: VGPU_SYNCOBJ_RESET, point: 0n }] });
    expect(exportPoint(p, drm, so)).toBe(-EINVAL); // NULL fence
  });

  it('an unknown in-syncobj handle is -ENOENT', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    expect(submit(p, drm, { in_syncobjs: [{ handle: 42, flags: 0, point: 0n }] }).r).toBe(-ENOENT);
  });

  it('an in-syncobj with no fence, or an unsubmitted point, is -EINVAL', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    expect(submit(p, drm, { in_syncobjs: [{ handle: so, flags: 0, point: 0n }] }).r).toBe(-EINVAL);
    const sig = { handles: [so], points: [1n], count_handles: 1, flags: 0 };
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, sig)).toBe(0);
    expect(submit(p, drm, { in_syncobjs: [{ handle: so, flags: 0, point: 1n }] }).r).toBe(0);
    expect(submit(p, drm, { in_syncobjs: [{ handle: so, flags: 0, point: 2n }] }).r).toBe(-EINVAL);
  });

  it('in-syncobj flags other than RESET are -EINVAL', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    expect(submit(p, drm, { in_syncobjs: [{ handle: so, flags: 2, point: 0n }] }).r).toBe(-EINVAL);
  });

  it('an unknown out-syncobj handle is -EINVAL (as msm), out flags ≠ 0 are -EINVAL', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    expect(submit(p, drm, { out_syncobjs: [{ handle: 42, flags: 0, point: 0n }] }).r).toBe(-EINVAL);
    expect(submit(p, drm, { out_syncobjs: [{ handle: so, flags: VGPU_SYNCOBJ_RESET, point: 0n }] }).r).toBe(-EINVAL);
  });

  it('syncobj arrays shorter than their count, or malformed, are -EFAULT', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    expect(submit(p, drm, { nr_in_syncobjs: 1, in_syncobjs: [] }).r).toBe(-EFAULT);
    expect(submit(p, drm, { nr_out_syncobjs: 1, out_syncobjs: null }).r).toBe(-EFAULT);
    const bad = [{ handle: 1, flags: 0, point: 0 }] as unknown as { handle: number; flags: number; point: bigint }[];
    expect(submit(p, drm, { nr_in_syncobjs: 1, in_syncobjs: bad }).r).toBe(-EFAULT);
  });

  it('a failed submit touches no out-syncobj', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    const so = syncobj(p, drm);
    expect(submit(p, drm, { out_syncobjs: [{ handle: so, flags: 0, point: 0n }], bos: [{ fd: 99, flags: VGPU_BO_WRITE }] }).r).toBe(-EBADF);
    expect(exportPoint(p, drm, so)).toBe(-EINVAL);
  });
});
