/**
 * Per-protocol surface state slots, after wlroots' `wlr_surface_synced`
 * and Smithay's `Cacheable`: each protocol file defines the typed,
 * double-buffered state it adds to a wl_surface, and the surface keeps it
 * without knowing its fields.
 *
 *   pending  — requests of the current cycle write it (Surface.pending.states)
 *   cached   — commit moves the whole set into the content update, where it
 *              waits in the queue (CommitState.states)
 *   current  — the update is latched and ends presented or discarded; the
 *              slot's hooks answer what it holds (presentation feedback)
 *
 * At commit, each slot's `commit` hook copies what the core needs into the
 * update (its buffer sync, fifo and timing constraints): that is how the
 * core learns of a protocol without naming it. A slot's state exists in a
 * cycle only if its protocol touched it (SlotStates.of), so a surface pays
 * nothing for protocols it does not use.
 *
 * Only plain data types are imported here (types.ts, buffer.ts), so any
 * module, protocol files included, may import it without a circle.
 */
import type { Process } from '../../shared/kernel/process';
import type { Resource } from '../../shared/protocol/server';
import type { DmabufBuffer } from './buffer';
import type { BufferUse, CommitSync } from './types';

/** A commit's content update state: the core's fields and the protocols' slots. */
export interface CommitState {
  /** undefined: no attach in this commit; null: attach(NULL). */
  readonly buffer: DmabufBuffer | null | undefined;
  readonly use: BufferUse | null;
  readonly frameCallbacks: Resource<'wl_callback'>[];
  /** The protocols' cached state (surface-state.ts). */
  readonly states: SlotStates;
  readonly fifoBarrier: boolean;
  /** A sync_file to hand the GPU under gpu-wait (compositor's fd), or -1. */
  acquireFd: number;
}

/** What a slot's commit hook may set in the content update being built. */
export interface CommitDraft {
  /** A non-null buffer is attached in this commit. */
  readonly hasBuffer: boolean;
  /** The buffer's sync path; 'implicit' unless an explicit-sync protocol claims it. */
  sync: CommitSync;
  /** wp_fifo_v1.set_barrier applied with this update. */
  fifoBarrier: boolean;
  /** wp_fifo_v1.wait_barrier: not ready while a barrier is set. */
  fifoWait: boolean;
  /** wp_commit_timer_v1 target presentation time (ns), or null. */
  targetNs: bigint | null;
}

/** What a slot's hooks may use of the compositor: its process and DRM fd. */
export interface SlotEnv {
  readonly proc: Process;
  readonly drmFd: number;
}

/** How an update reached the screen (wp_presentation_feedback.presented). */
export interface PresentInfo {
  /** Flip time in ns of the presentation clock. */
  readonly at: bigint;
  /** The vblank sequence it was presented at. */
  readonly seq: bigint;
  /** The output's refresh period in ns. */
  readonly periodNs: bigint;
}

export interface StateSlot<T> {
  /** The protocol that owns it (for messages). */
  readonly name: string;
  /** Definition order: commit hooks run in it. */
  readonly order: number;
  /** A fresh cycle's state. */
  init(): T;
  /** At commit (after the pre-commit checks passed): move what the core needs into the update. */
  commit?(state: T, draft: CommitDraft, env: SlotEnv): void;
  /** The update was presented. */
  presented?(state: T, info: PresentInfo): void;
  /** The update will never be shown (superseded, dropped with its surface), or the surface went with this state pending. */
  discarded?(state: T): void;
}

let nextOrder = 0;

/** A protocol's slot; define it once, at module scope. */
export function defineStateSlot<T>(spec: Omit<StateSlot<T>, 'order'>): StateSlot<T> {
  return { ...spec, order: nextOrder++ };
}

/** The slot states of one cycle (pending), then of the content update it became. */
export class SlotStates {
  private readonly values = new Map<StateSlot<unknown>, unknown>();

  /** The slot's state in this cycle, created on first use. */
  of<T>(slot: StateSlot<T>): T {
    const key = slot as StateSlot<unknown>;
    if (this.values.has(key)) return this.values.get(key) as T;
    const v = slot.init();
    this.values.set(key, v);
    return v;
  }

  /** The slot's state if its protocol touched it in this cycle. */
  peek<T>(slot: StateSlot<T>): T | undefined {
    return this.values.get(slot as StateSlot<unknown>) as T | undefined;
  }

  /** Forget the slot's state (its object went and nothing in it outlives it). */
  delete(slot: StateSlot<unknown>): void {
    this.values.delete(slot);
  }

  /** Run `f` for each slot with a state, in slot definition order. */
  each(f: <T>(slot: StateSlot<T>, state: T) => void): void {
    const entries = [...this.values.entries()].sort((a, b) => a[0].order - b[0].order);
    for (const [slot, state] of entries) f(slot, state);
  }
}
