/**
 * The per-surface content-update queue (wayland.xml wl_surface.commit: "a
 * content update … placed in a queue until it becomes active").
 *
 * Each commit becomes an update carrying locks: fence locks (an explicit
 * acquire point or sync_file, or the implicit EXPORT_SYNC_FILE snapshot), a
 * fifo barrier wait, and a commit-timing target. Fence locks are released
 * by fence callbacks (event-driven, never polled); barrier and target are
 * judged at each latch deadline. Updates leave the queue strictly in order:
 * a ready update behind a locked one waits (wlroots cached-state locks, KWin
 * transactions, Smithay blockers).
 */

export interface ContentUpdate<S> {
  /** Commit sequence number on its surface, from 1. */
  readonly seq: number;
  readonly state: S;
  readonly committedAt: bigint;
  /** Outstanding fence locks. */
  locks: number;
  /** When the last fence lock cleared (committedAt if there were none). */
  unlockedAt: bigint | null;
  /** wp_fifo_v1.wait_barrier was requested for this update. */
  readonly fifoWait: boolean;
  /** wp_commit_timer_v1.set_timestamp target, in ns on the presentation clock. */
  readonly targetNs: bigint | null;
  /** Undo the wait of each outstanding lock (client gone, surface destroyed). */
  readonly cancels: (() => void)[];
}

export interface LatchContext {
  /** The fifo barrier of the surface is still set (not yet cleared by a latch deadline). */
  barrierActive: boolean;
  /** When the frame being latched will be presented. */
  presentAt: bigint;
}

export class ContentUpdateQueue<S> {
  private readonly updates: ContentUpdate<S>[] = [];
  private nextSeq = 1;

  get length(): number {
    return this.updates.length;
  }

  /** Updates in commit order (read-only view for traces and tests). */
  pending(): readonly ContentUpdate<S>[] {
    return this.updates;
  }

  push(state: S, committedAt: bigint, fifoWait: boolean, targetNs: bigint | null): ContentUpdate<S> {
    const update: ContentUpdate<S> = {
      seq: this.nextSeq++,
      state,
      committedAt,
      locks: 0,
      unlockedAt: committedAt,
      fifoWait,
      targetNs,
      cancels: [],
    };
    this.updates.push(update);
    return update;
  }

  /** Add a fence lock; `cancel` undoes the wait behind it. */
  lock(update: ContentUpdate<S>, cancel: () => void): void {
    update.locks++;
    update.unlockedAt = null;
    update.cancels.push(cancel);
  }

  /** A fence lock cleared. Returns true when the update has no locks left. */
  unlock(update: ContentUpdate<S>, now: bigint): boolean {
    if (update.locks <= 0) throw new Error(`content update ${update.seq}: unlock without lock`);
    update.locks--;
    if (update.locks === 0) update.unlockedAt = now;
    return update.locks === 0;
  }

  /** Whether the head of the queue could be latched now. */
  headReady(ctx: LatchContext): boolean {
    const head = this.updates[0];
    return head !== undefined && ready(head, ctx);
  }

  /**
   * Take the ready prefix of the queue, in order. Only the first update may
   * wait on the fifo barrier: once one update is latched in a cycle, the
   * barrier it set (if any) holds back the rest until the next deadline, so
   * the caller passes `barrierSetBy` to stop there.
   */
  takeReady(ctx: LatchContext, setsBarrier: (u: ContentUpdate<S>) => boolean): ContentUpdate<S>[] {
    const out: ContentUpdate<S>[] = [];
    let barrier = ctx.barrierActive;
    while (this.updates.length > 0) {
      const head = this.updates[0]!;
      if (!ready(head, { barrierActive: barrier, presentAt: ctx.presentAt })) break;
      this.updates.shift();
      out.push(head);
      if (setsBarrier(head)) barrier = true;
    }
    return out;
  }

  /** Drop every update (surface destroyed, client gone), cancelling their waits. */
  clear(): ContentUpdate<S>[] {
    const dropped = this.updates.splice(0);
    for (const u of dropped) for (const c of u.cancels.splice(0)) c();
    return dropped;
  }
}

function ready<S>(u: ContentUpdate<S>, ctx: LatchContext): boolean {
  if (u.locks > 0) return false;
  if (u.fifoWait && ctx.barrierActive) return false;
  // commit-timing-v1: "as close as possible to, but not before" the target.
  if (u.targetNs !== null && ctx.presentAt < u.targetNs) return false;
  return true;
}
