/**
 * The page as the compositor's display (handoff_display_v1): one client
 * connection that presents the token from GET /display-token and becomes
 * the engine of the compositor's composition ring. Each job event is run
 * by `runJob` (the pixi desktop), and `done` goes back once that
 * submission's onSubmittedWorkDone() resolved, so the composition fence —
 * and every release that follows from it — is a real GPU fence.
 *
 * Jobs run one after another in arrival order (one queue, as the GPU has):
 * a job that arrives while another is in flight waits for it.
 */
import { handoffDisplayManagerV1Interface } from '../../shared/protocol/generated/handoff-display-v1';
import { connect, type HandoffClient } from './client-lib';

export interface CompositionJob {
  readonly id: number;
  readonly label: string;
  /** The modelled GPU time the compositor asked for (not used to pace here). */
  readonly durationNs: bigint;
  /** dma-buf ids the job reads, in stacking order (bottom first). */
  readonly buffers: readonly number[];
}

/** What running one job on the GPU cost, measured in the page. */
export interface JobResult {
  /** 0, or a positive errno for work that failed (device lost: EIO). */
  readonly error: number;
  /** CPU time to build and record the scene (ms). */
  readonly recordMs: number;
  /** queue.submit → onSubmittedWorkDone resolved (ms): the composition's GPU time as the page sees it. */
  readonly submitToDoneMs: number;
}

export type RunJob = (job: CompositionJob) => Promise<JobResult>;

export interface DisplayStatus {
  jobs: number;
  done: number;
  failed: number;
  /** The last protocol or connection problem, in words. */
  problem: string | null;
}

export interface PageDisplay {
  readonly client: HandoffClient;
  readonly status: DisplayStatus;
  /** Stop being the display (the simulated engine takes over) and close. */
  close(): void;
}

/** The u32 array of a job event, little-endian as on the wire. */
export function decodeBufferIds(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= bytes.byteLength; i += 4) out.push(view.getUint32(i, true));
  return out;
}

/** GET /display-token: only the server's own page can read it. */
export async function fetchDisplayToken(origin: string): Promise<string> {
  const res = await fetch(new URL('/display-token', origin), { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /display-token: ${res.status} (the display token is only given to the server's own page)`);
  const body = (await res.json()) as { token?: unknown };
  if (typeof body.token !== 'string') throw new Error('GET /display-token: no token in the answer');
  return body.token;
}

export interface DisplayOptions {
  /** ws://host:port/ws */
  readonly wsUrl: string;
  readonly token: string;
  readonly runJob: RunJob;
  /** After each job's done went out. */
  readonly onJobDone?: (job: CompositionJob, result: JobResult) => void;
  /** The connection ended (error or close). */
  readonly onGone?: (reason: string) => void;
}

export async function startDisplay(options: DisplayOptions): Promise<PageDisplay> {
  const client = await connect(options.wsUrl, { comm: 'display' });
  const status: DisplayStatus = { jobs: 0, done: 0, failed: 0, problem: null };
  const mgr = client.bind(handoffDisplayManagerV1Interface, 1);
  const display = mgr.send.register(options.token);
  let queue: Promise<void> = Promise.resolve();
  display.setListener({
    job: (id, label, hi, lo, buffers) => {
      const job: CompositionJob = { id, label, durationNs: (BigInt(hi) << 32n) | BigInt(lo), buffers: decodeBufferIds(buffers) };
      status.jobs++;
      queue = queue.then(async () => {
        let result: JobResult;
        try {
          result = await options.runJob(job);
        } catch (err) {
          // A bug drawing the scene must not leave the compositor waiting
          // for this fence until the hang timeout: fail the job (EIO).
          status.problem = `composition failed: ${err instanceof Error ? err.message : String(err)}`;
          result = { error: 5, recordMs: 0, submitToDoneMs: 0 };
        }
        if (!client.isConnected) return;
        display.send.done(id, result.error);
        client.flush();
        if (result.error === 0) status.done++;
        else status.failed++;
        options.onJobDone?.(job, result);
      });
    },
  });
  client.on('error', (e) => {
    status.problem = `display connection error: ${e.message}`;
    options.onGone?.(status.problem);
  });
  client.on('disconnect', (code, reason) => {
    status.problem ??= `display disconnected (${code}${reason ? `: ${reason}` : ''})`;
    options.onGone?.(status.problem);
  });
  // A wrong token or a second display is a protocol error on this
  // connection: the roundtrip then rejects, and the caller says why.
  await client.roundtrip();
  return {
    client,
    status,
    close() {
      if (client.isConnected) display.send.destroy();
      client.close();
    },
  };
}
