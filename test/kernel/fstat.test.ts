import { describe, expect, it } from 'vitest';
import { EBADF } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import type { KernelStat, Process } from '../../shared/kernel/process';
import { S_IFCHR, S_IFMT, S_IFREG } from '../../shared/kernel/uapi';
import { alloc, client, setup, swFence } from './vgpu-helpers';

function stat(p: Process, fd: number): KernelStat {
  const st = p.fstat(fd);
  if (typeof st === 'number') throw new Error(`fstat(${fd}) = ${st}`);
  return st;
}

describe('fstat', () => {
  it("a dma-buf's st_ino is its id (the buf of its events) and st_size its size", () => {
    const { kernel } = setup();
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const { p, heap } = client(kernel, 'app');
    const fd = alloc(p, heap, 8192n);
    const allocEv = events.find((e) => e.type === 'dmabuf.alloc');
    const st = stat(p, fd);
    expect(st.st_ino).toBe(allocEv?.type === 'dmabuf.alloc' ? allocEv.buf : -1);
    expect(st.st_size).toBe(8192n);
    expect(st.st_mode & S_IFMT).toBe(S_IFREG);
  });

  it('the same dma-buf has the same identity through dup and in another process; another buffer differs', () => {
    const { kernel } = setup();
    const a = client(kernel, 'a');
    const b = kernel.spawn('b');
    const fd = alloc(a.p, a.heap);
    const other = alloc(a.p, a.heap);
    const passed = b.receiveFd(a.p, fd);
    const id = (st: KernelStat) => [st.st_dev, st.st_ino];
    expect(id(stat(a.p, a.p.dup(fd)))).toEqual(id(stat(a.p, fd)));
    expect(id(stat(b, passed))).toEqual(id(stat(a.p, fd)));
    expect(stat(a.p, other).st_ino).not.toBe(stat(a.p, fd).st_ino);
  });

  it('other files get an inode number of their own, stable per file, never a dma-buf id, size 0', () => {
    const { kernel } = setup();
    const { p, heap, drm } = client(kernel, 'app');
    const buf = alloc(p, heap);
    const sw = swFence(p);
    const fence = stat(p, sw.fd);
    expect(fence.st_size).toBe(0n);
    expect(stat(p, p.dup(sw.fd)).st_ino).toBe(fence.st_ino);
    const inos = [fence.st_ino, stat(p, drm).st_ino, stat(p, heap).st_ino, stat(p, buf).st_ino];
    expect(new Set(inos).size).toBe(4);
  });

  it('device nodes are character devices', () => {
    const { kernel } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    expect(stat(p, drm).st_mode & S_IFMT).toBe(S_IFCHR);
    expect(stat(p, heap).st_mode & S_IFMT).toBe(S_IFCHR);
  });

  it('a closed or never-open fd is -EBADF', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'app');
    p.close(drm);
    expect(p.fstat(drm)).toBe(-EBADF);
    expect(p.fstat(99)).toBe(-EBADF);
    expect(p.fstat(-1)).toBe(-EBADF);
  });
});
