/**
 * State shared by every kernel object of one Kernel instance: the clock, the
 * fence-context counter (dma_fence_context_alloc), object ids and the event
 * bus. Kept apart from kernel.ts so low-level modules (dma-fence, dma-resv)
 * need not import the device layer.
 */
import type { Clock } from './clock';
import type { KernelEvent, KernelEventListener } from './events';

export interface KernelCoreOptions {
  clock: Clock;
  legacyReplaceImport: boolean;
}

export class KernelCore {
  readonly clock: Clock;
  readonly legacyReplaceImport: boolean;
  /** Context 0 belongs to the stub fences; real contexts start at 1. */
  private nextContext = 1n;
  private nextId = 1;
  private listeners: KernelEventListener[] = [];
  /** True while someone listens: call sites skip building events otherwise. */
  tracing = false;
  /**
   * Kernel WARN()s hit so far. Like Linux, the model warns and carries on
   * (e.g. dma_fence_set_error after signal); tests assert on these.
   */
  readonly warnings: string[] = [];

  constructor(opts: KernelCoreOptions) {
    this.clock = opts.clock;
    this.legacyReplaceImport = opts.legacyReplaceImport;
  }

  /** dma_fence_context_alloc(num): the first of `num` fresh contexts. */
  contextAlloc(num = 1): bigint {
    const first = this.nextContext;
    this.nextContext += BigInt(num);
    return first;
  }

  /** A kernel-wide object id (fences, buffers, jobs) for events and traces. */
  allocId(): number {
    return this.nextId++;
  }

  now(): bigint {
    return this.clock.now();
  }

  /** WARN(): record the broken expectation and go on, as the kernel does. */
  warn(message: string): void {
    this.warnings.push(message);
  }

  emit(ev: KernelEvent): void {
    for (const l of this.listeners) l(ev);
  }

  subscribe(listener: KernelEventListener): () => void {
    this.listeners.push(listener);
    this.tracing = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.tracing = this.listeners.length > 0;
    };
  }
}
