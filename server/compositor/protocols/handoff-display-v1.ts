/**
 * handoff_display_manager_v1 / handoff_display_v1 (our own protocol,
 * shared/protocol/handoff-display-v1.xml): the browser page's display
 * registers, with the token the server gives its own page, as the engine
 * of the compositor's GPU ring. Composition jobs then go to it as job
 * events and their fences signal when it reports done (after WebGPU's
 * onSubmittedWorkDone). Only the connection holding the token may; one at
 * a time; when it goes, the simulated engine takes over again.
 */
import { u64Hi, u64Lo } from '../../../shared/protocol/u64';
import type { CompositorContext } from '../context';
import {
  HandoffDisplayManagerV1Error,
  HandoffDisplayV1Error,
  handoffDisplayManagerV1Interface,
} from '../../../shared/protocol/generated/handoff-display-v1';
import type { Resource } from '../../../shared/protocol/server';
import type { VgpuEngine } from '../../../shared/kernel/vgpu';
import { MAX_ERRNO } from '../../../shared/kernel/errno';
import { destroyResource } from './util';

/** The vgpu ring the compositor composes on (created by the compositor). */
export const COMPOSITOR_RING = 'compositor';

function u32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

export function registerHandoffDisplay(c: CompositorContext): void {
  let current: Resource<'handoff_display_v1'> | null = null;
  c.display.createGlobal(handoffDisplayManagerV1Interface, 1, (newId) => {
    newId.create({
      destroy: destroyResource,
      register(mgr, id, token) {
        const inert = { destroy: destroyResource, done() {} };
        if (token !== c.displayToken) {
          id.create(inert);
          mgr.postError(HandoffDisplayManagerV1Error.badToken, 'not the display token this server gave its page');
          return;
        }
        if (current) {
          id.create(inert);
          mgr.postError(HandoffDisplayManagerV1Error.alreadyRegistered, 'another display is already registered');
          return;
        }
        /** Jobs sent to this display and not answered yet. */
        const sent = new Set<number>();
        const res = id.create({
          destroy: destroyResource,
          done(r, job, error) {
            if (!sent.delete(job)) {
              r.postError(HandoffDisplayV1Error.unknownJob, `job ${job} was not sent to this display`);
              return;
            }
            // A late answer for a job already declared hung is ignored by the kernel (-ENOENT).
            c.kernel.vgpu.completeJob(job, error === 0 ? 0 : -Math.min(error, MAX_ERRNO));
          },
        });
        const engine: VgpuEngine = {
          execute(job) {
            sent.add(job.id);
            const d = job.durationNs;
            res.send.job(job.id, job.label, u64Hi(d), u64Lo(d), u32Bytes(job.bos.map((b) => b.buf)));
            c.display.flushClients();
          },
        };
        current = res;
        c.kernel.vgpu.attachExternalEngine(COMPOSITOR_RING, engine);
        res.onDestroy(() => {
          if (current !== res) return;
          current = null;
          c.kernel.vgpu.detachExternalEngine(COMPOSITOR_RING);
        });
      },
    });
  });
}
