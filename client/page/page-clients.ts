/**
 * The in-page clients of the scene: each one its own WebSocket connection
 * (so its own process, fd table and Wayland objects on the server), run by
 * the client library's sync-kind client, with its buffers backed by
 * GPUTextures on the page's device (webgpu-client.ts).
 *
 * Bridge until the client library's renderer port and the kernel's
 * external rings are in (UAPI-PLAN.md): frames run on the simulated engine,
 * and the WebGPU client draws a frame when the trace shows the client's job
 * starting on a buffer of its process (dmabuf.alloc / job.start by pid).
 * The fence is then the model's, not the GPU's; external-ring.ts is the
 * path that replaces this.
 */
import { SwapchainClient, modelledRenderer } from './client-lib';
import { connect, type HandoffClient } from './client-lib';
import type { TraceEvent } from '../../shared/trace/events';
import type { BufferTextures } from './buffer-textures';
import type { PageGpu } from './gpu-device';
import { clientColour } from './pattern-renderer';
import { WebGpuClient } from './webgpu-client';
import type { ClientSpec } from './url-state';

export const CLIENT_WIDTH = 192;
export const CLIENT_HEIGHT = 144;
/** Modelled GPU time of a frame: a base plus the extra load, shown as modelled. */
export const BASE_RENDER_NS = 2_000_000n;
export const LOAD_RENDER_NS = 10_000_000n;

export interface PageClient {
  readonly serial: number;
  readonly spec: ClientSpec;
  /** The process name on the server (comm), unique in this page. */
  readonly comm: string;
  readonly colour: readonly [number, number, number];
  readonly connection: HandoffClient;
  readonly protocol: SwapchainClient;
  readonly gpu: WebGpuClient | null;
  pid: number | undefined;
  /** dma-buf ids in allocation order (= swapchain index). */
  readonly bufs: number[];
}

export class PageClients {
  readonly list: PageClient[] = [];
  private serial = 0;
  private readonly byComm = new Map<string, PageClient>();
  private readonly byPid = new Map<number, PageClient>();
  /** comm → pid from client.connect, which may arrive before connect() resolves. */
  private readonly pidOfComm = new Map<string, number>();
  /**
   * A tag unique to this page load in every comm: the trace's history
   * still holds the clients of an earlier load, with the same serials.
   */
  private readonly tag = Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0');

  constructor(
    private readonly wsUrl: string,
    private readonly gpu: PageGpu | null,
    private readonly textures: BufferTextures,
  ) {}

  async add(spec: ClientSpec): Promise<PageClient> {
    const serial = ++this.serial;
    const comm = `${this.tag}${serial}-${spec.mode}`.slice(0, 15);
    const colour = clientColour(serial - 1);
    const connection = await connect(this.wsUrl, { comm });
    const gpu = this.gpu
      ? new WebGpuClient(this.gpu, this.textures, { name: `client ${serial}`, mode: spec.mode, colour, load: spec.load })
      : null;
    const protocol = new SwapchainClient(
      connection,
      { kind: spec.mode, name: `client ${serial}`, buffers: spec.buffers, width: CLIENT_WIDTH, height: CLIENT_HEIGHT },
      modelledRenderer(BASE_RENDER_NS + LOAD_RENDER_NS * BigInt(spec.load)),
    );
    const pc: PageClient = { serial, spec, comm, colour, connection, protocol, gpu, pid: undefined, bufs: [] };
    this.list.push(pc);
    this.byComm.set(comm, pc);
    const pid = this.pidOfComm.get(comm);
    if (pid !== undefined) {
      pc.pid = pid;
      this.byPid.set(pid, pc);
    }
    await protocol.start();
    return pc;
  }

  async remove(serial: number): Promise<void> {
    const i = this.list.findIndex((c) => c.serial === serial);
    if (i < 0) return;
    const [pc] = this.list.splice(i, 1);
    if (!pc) return;
    this.byComm.delete(pc.comm);
    if (pc.pid !== undefined) this.byPid.delete(pc.pid);
    pc.connection.close();
    await pc.protocol.stop();
    pc.gpu?.dispose();
  }

  async removeAll(): Promise<void> {
    for (const pc of [...this.list]) await this.remove(pc.serial);
  }

  /** The trace tells which process and buffers are ours, and when a frame's job starts. */
  onTraceEvent(ev: TraceEvent): void {
    switch (ev.type) {
      case 'client.connect': {
        if (ev.name === undefined || ev.pid === undefined) return;
        this.pidOfComm.set(ev.name, ev.pid);
        const pc = this.byComm.get(ev.name);
        if (pc) {
          pc.pid = ev.pid;
          this.byPid.set(ev.pid, pc);
        }
        return;
      }
      case 'dmabuf.alloc': {
        const pc = this.byPid.get(ev.pid);
        if (!pc) return;
        pc.bufs.push(ev.buf);
        pc.gpu?.addBuffer(pc.bufs.length - 1, ev.buf, CLIENT_WIDTH, CLIENT_HEIGHT);
        return;
      }
      case 'job.start': {
        const pc = this.byPid.get(ev.pid);
        const written = ev.bos?.find((b) => b.access === 'write');
        if (!pc?.gpu || !written) return;
        const index = pc.gpu.indexOf(written.buf);
        if (index === undefined) return;
        const spreadMs = Number(BASE_RENDER_NS + LOAD_RENDER_NS * BigInt(pc.spec.load)) / 1e6;
        void pc.gpu.drawFrame(index, spreadMs);
        return;
      }
      default:
        return;
    }
  }
}
