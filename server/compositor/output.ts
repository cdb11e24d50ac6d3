/**
 * One output (a wl_output): its vblank clock and repaint cycle, after
 * Weston's repaint window and sway's max_render_time.
 *
 *   latch deadline ── latch ready updates, submit the composition job
 *   vblank ────────── page flip if a composition finished in time; else the
 *                     frame is missed and the flip waits for a later vblank
 *
 * The vblank clock runs on the injected clock; `slowMotion` stretches every
 * period for teaching. The output owns no policy: the compositor supplies
 * `repaint` (latch + submit, returning whether a composition was started)
 * and is told of flips and misses.
 */
import type { Clock } from '../../shared/kernel/clock';
import { DEFAULT_CONTROL_SETTINGS, inControlRange } from '../../shared/control';

export interface OutputMode {
  /** Refresh rate in Hz (e.g. 30–240). */
  refreshHz: number;
  /** Multiply every period by this (1 = real time, 10 = ten times slower). */
  slowMotion: number;
  /** Latch this long before each vblank, as a fraction of the period (0..1). */
  latchFraction: number;
}

export interface OutputHooks {
  /**
   * Latch deadline for the vblank `seq` at `presentAt`. Return true if a
   * composition was started: the output then expects compositionDone().
   */
  repaint(output: Output, seq: bigint, presentAt: bigint): boolean;
  /** The frame composited for `targetSeq` reached the screen at vblank `seq`. */
  flipped(output: Output, seq: bigint, at: bigint, targetSeq: bigint): void;
  /** A vblank passed with a composition still in flight (a missed frame). */
  missed(output: Output, seq: bigint, targetSeq: bigint): void;
  /** A hook threw: a bug, reported here; the vblank clock goes on. */
  error?(err: unknown): void;
}

export const DEFAULT_MODE: OutputMode = {
  refreshHz: DEFAULT_CONTROL_SETTINGS.refreshHz,
  slowMotion: DEFAULT_CONTROL_SETTINGS.slowMotion,
  latchFraction: 0.25,
};

export class Output {
  readonly name: string;
  private mode: OutputMode;
  private readonly clock: Clock;
  private readonly hooks: OutputHooks;
  /** MSC of the last vblank that passed. */
  seq = 0n;
  /** Timestamp of the last vblank. */
  lastVblankAt: bigint;
  private nextVblankAt: bigint;
  private cancelTimer: (() => void) | null = null;
  /** Target vblank of the composition in flight, if any. */
  private inFlight: bigint | null = null;
  /** A composition finished and waits for the next vblank to flip. */
  private readyToFlip: bigint | null = null;
  private running = false;
  readonly stats = { flips: 0, missed: 0, repaints: 0 };

  constructor(name: string, clock: Clock, hooks: OutputHooks, mode: Partial<OutputMode> = {}) {
    this.name = name;
    this.clock = clock;
    this.hooks = hooks;
    this.mode = { ...DEFAULT_MODE, ...mode };
    this.lastVblankAt = clock.now();
    this.nextVblankAt = this.lastVblankAt + this.periodNs;
  }

  get periodNs(): bigint {
    return BigInt(Math.round((1e9 / this.mode.refreshHz) * this.mode.slowMotion));
  }

  get refreshHz(): number {
    return this.mode.refreshHz;
  }

  get currentMode(): Readonly<OutputMode> {
    return this.mode;
  }

  /** When the next vblank falls. */
  get nextVblank(): bigint {
    return this.nextVblankAt;
  }

  get compositionInFlight(): boolean {
    return this.inFlight !== null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastVblankAt = this.clock.now();
    this.nextVblankAt = this.lastVblankAt + this.periodNs;
    this.armLatch();
  }

  stop(): void {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** Change refresh rate or slow motion; takes effect from the next vblank. */
  setMode(mode: Partial<OutputMode>): void {
    if (mode.refreshHz !== undefined && !inControlRange('refreshHz', mode.refreshHz)) {
      throw new RangeError(`refresh rate out of range: ${mode.refreshHz}`);
    }
    if (mode.slowMotion !== undefined && !inControlRange('slowMotion', mode.slowMotion)) {
      throw new RangeError(`slow motion factor out of range: ${mode.slowMotion}`);
    }
    this.mode = { ...this.mode, ...mode };
  }

  /** The composition job started at the last repaint has completed. */
  compositionDone(): void {
    if (this.inFlight === null) return;
    this.readyToFlip = this.inFlight;
    this.inFlight = null;
  }

  private latchAt(): bigint {
    const lead = BigInt(Math.round(Number(this.periodNs) * this.mode.latchFraction));
    return this.nextVblankAt - lead;
  }

  private armLatch(): void {
    const at = this.latchAt();
    const now = this.clock.now();
    this.cancelTimer = this.clock.setTimer(at > now ? at : now, () => this.onLatch());
  }

  private onLatch(): void {
    if (!this.running) return;
    const target = this.seq + 1n;
    try {
      // Only one composition in flight per output: a busy output skips this
      // repaint (its frame will be counted missed at the vblank).
      if (this.inFlight === null && this.readyToFlip === null) {
        this.stats.repaints++;
        if (this.hooks.repaint(this, target, this.nextVblankAt)) this.inFlight = target;
      }
    } catch (err) {
      this.hooks.error?.(err);
    } finally {
      // Whatever a hook did, the display keeps its clock.
      this.cancelTimer = this.clock.setTimer(this.nextVblankAt, () => this.onVblank());
    }
  }

  private onVblank(): void {
    if (!this.running) return;
    this.seq++;
    this.lastVblankAt = this.nextVblankAt;
    this.nextVblankAt = this.lastVblankAt + this.periodNs;
    try {
      if (this.readyToFlip !== null) {
        const target = this.readyToFlip;
        this.readyToFlip = null;
        this.stats.flips++;
        this.hooks.flipped(this, this.seq, this.lastVblankAt, target);
      } else if (this.inFlight !== null) {
        this.stats.missed++;
        this.hooks.missed(this, this.seq, this.inFlight);
      }
    } catch (err) {
      this.hooks.error?.(err);
    } finally {
      this.armLatch();
    }
  }
}
