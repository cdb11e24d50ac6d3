/**
 * The Kernel: one instance is one machine. It owns the clock, the device
 * nodes (/dev/sw_sync, /dev/dri/card0, /dev/dma_heap/system), the page pool
 * and the virtual GPU, and spawns processes. Device modules register their
 * open() here; everything a process does goes through its Process.
 */
import type { Clock } from './clock';
import { KernelCore } from './core';
import type { KernelEventListener } from './events';
import type { KFile } from './file';
import { Process } from './process';
import { swSyncOpen } from './sw-sync';
import { dmaHeapSystemOpen } from './dma-heap';
import { drmOpen } from './drm';
import { createPagePool, type PagePool } from './page-pool';
import { createVgpu, type VgpuDevice, type VgpuOptions } from './vgpu';

export interface KernelLimits {
  /** RLIMIT_NOFILE: an fd at or past this gives -EMFILE. Default 1024. */
  maxFds?: number;
  /** Pages in the shared page pool (4 KiB each). Default 262144 (1 GiB). */
  pages?: number;
}

export interface KernelOptions {
  /**
   * The machine's time, injected: the kernel arms no host timer itself.
   * Tests pass a ManualClock, the server the host's (server/host-clock.ts).
   */
  clock: Clock;
  /**
   * The 2020 RFC's import: DMA_BUF_IOCTL_IMPORT_SYNC_FILE *replaces* the
   * buffer's fences at the imported usage. Only for showing why Linux
   * refused it. Never the default.
   */
  legacyReplaceImport?: boolean;
  limits?: KernelLimits;
  vgpu?: VgpuOptions;
}

export type DeviceOpener = (proc: Process) => KFile | number;

export class Kernel {
  readonly core: KernelCore;
  readonly clock: Clock;
  readonly maxFds: number;
  readonly pages: PagePool;
  readonly vgpu: VgpuDevice;
  private readonly devices = new Map<string, DeviceOpener>();
  private readonly procs = new Map<number, Process>();
  private nextPid = 1;

  constructor(options: KernelOptions) {
    this.clock = options.clock;
    this.core = new KernelCore({ clock: this.clock, legacyReplaceImport: options.legacyReplaceImport ?? false });
    this.maxFds = options.limits?.maxFds ?? 1024;
    this.pages = createPagePool(this.core, options.limits?.pages ?? 262_144);
    this.registerDevice('/dev/sw_sync', (proc) => swSyncOpen(this, proc));
    this.registerDevice('/dev/dma_heap/system', (proc) => dmaHeapSystemOpen(this, proc));
    this.registerDevice('/dev/dri/card0', (proc) => drmOpen(this, proc));
    this.vgpu = createVgpu(this, options.vgpu ?? {});
  }

  get legacyReplaceImport(): boolean {
    return this.core.legacyReplaceImport;
  }

  spawn(comm: string): Process {
    const proc = new Process(this, this.nextPid++, comm);
    this.procs.set(proc.pid, proc);
    if (this.core.tracing) this.core.emit({ type: 'process.spawn', t: this.core.now(), pid: proc.pid, comm });
    return proc;
  }

  /** Live processes, by pid. */
  processes(): ReadonlyMap<number, Process> {
    return this.procs;
  }

  registerDevice(path: string, open: DeviceOpener): void {
    this.devices.set(path, open);
  }

  deviceOpener(path: string): DeviceOpener | undefined {
    return this.devices.get(path);
  }

  subscribe(listener: KernelEventListener): () => void {
    return this.core.subscribe(listener);
  }

  /** Called by Process.exit once its fds are closed. */
  onExit(proc: Process): void {
    this.procs.delete(proc.pid);
    if (this.core.tracing) this.core.emit({ type: 'process.exit', t: this.core.now(), pid: proc.pid });
  }
}
