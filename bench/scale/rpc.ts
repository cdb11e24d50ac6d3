/**
 * The benchmark's processes and how they talk: the orchestrator forks each
 * server and generator as its own Node process (TypeScript through tsx's
 * loader), pins it to cores with taskset, and calls it over the IPC
 * channel: `{id, op, arg}` in, `{id, result}` or `{id, error}` out. A child
 * says `{ready}` once it is up. IPC, not the sockets under test, so the
 * calls cost the server nothing per frame.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export type Handler = (arg: unknown) => unknown;

interface Request {
  id: number;
  op: string;
  arg: unknown;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** In a child: answer the orchestrator's calls, then say ready with `info`. */
export function serveRpc(handlers: Record<string, Handler>, info: unknown): void {
  const send = (m: unknown): void => {
    process.send?.(m);
  };
  process.on('message', (m: Request) => {
    const h = handlers[m.op];
    if (!h) return send({ id: m.id, error: `unknown op ${m.op}` } satisfies Reply);
    Promise.resolve()
      .then(() => h(m.arg))
      .then(
        (result) => send({ id: m.id, result } satisfies Reply),
        (err: unknown) => send({ id: m.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply),
      );
  });
  // The orchestrator went away: so do we.
  process.on('disconnect', () => process.exit(0));
  send({ ready: info });
}

export class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<unknown>;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderr = '';

  constructor(script: string, args: readonly string[], cores: string | null, nodeFlags: readonly string[] = []) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    this.proc = fork(path, [...args], {
      execArgv: ['--import', 'tsx', ...nodeFlags],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    if (cores !== null && this.proc.pid !== undefined) pin(this.proc.pid, cores);
    this.ready = new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`${script} exited (${code}) before ready: ${this.stderr}`));
      this.proc.once('exit', onExit);
      this.proc.on('message', (m: { ready?: unknown } & Partial<Reply>) => {
        if ('ready' in m) {
          this.proc.off('exit', onExit);
          resolve(m.ready);
          return;
        }
        const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
        if (!p || m.id === undefined) return;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(`${script}: ${m.error}`));
        else p.resolve(m.result);
      });
    });
    this.proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${script} exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  call<T>(op: string, arg?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, op, arg } satisfies Request);
    });
  }

  /** Ask it to end, and make sure it does. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export interface CorePlan {
  /** taskset list for the server, or null when not pinning (one core, or no taskset). */
  server: string | null;
  /** taskset list for generators, observers and the orchestrator. */
  load: string | null;
  cores: number;
}

let plan: CorePlan | null = null;

/**
 * Cores for the server and for everything else: the server alone on the
 * last core when there are two or more. Decided once, before anything is
 * pinned (a pinned process sees only its own cores).
 */
export function corePlan(): CorePlan {
  if (plan === null) {
    const cores = os.availableParallelism();
    plan =
      cores < 2 || !hasTaskset()
        ? { server: null, load: null, cores }
        : { server: String(cores - 1), load: cores === 2 ? '0' : `0-${cores - 2}`, cores };
  }
  return plan;
}

let tasksetChecked: boolean | null = null;
function hasTaskset(): boolean {
  if (tasksetChecked === null) {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      tasksetChecked = true;
    } catch {
      tasksetChecked = false;
    }
  }
  return tasksetChecked;
}

/** Every thread of `pid` onto `cores` (threads started later inherit it). */
function pin(pid: number, cores: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
  } catch {
    // Not fatal: the figures are then from an unpinned process (the report says which cores were used).
  }
}
