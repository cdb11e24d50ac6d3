/**
 * For a renderer that runs its own ring's jobs (VGPU_RING_EXTERNAL): the
 * client's own map seqno → job, the way a Vulkan driver keeps its
 * submissions. The kernel's JOB_WAIT names a job by its seqno only; the
 * renderer port's `submitted` says which buffer and frame that seqno is.
 * The two travel separately (the submit's answer, the job's start), so a
 * seqno may be asked for before it is known: `take` waits for it.
 *
 *   submitted: (job) => jobs.add(job),
 *   engine loop: JOB_WAIT(arg) → const job = await jobs.take(arg.fence) → draw → JOB_DONE
 */
import type { SubmittedJob } from './renderer';

export class SubmittedJobs {
  private readonly known = new Map<number, SubmittedJob>();
  private readonly wanted = new Map<number, (job: SubmittedJob) => void>();

  /** The port's `submitted`: a job of the ring, by its seqno. */
  add(job: SubmittedJob): void {
    const waiter = this.wanted.get(job.seqno);
    if (waiter === undefined) {
      this.known.set(job.seqno, job);
      return;
    }
    this.wanted.delete(job.seqno);
    waiter(job);
  }

  /** The job with this seqno, once it is known; forgotten once taken (seqnos are used once per ring). */
  take(seqno: number): Promise<SubmittedJob> {
    const job = this.known.get(seqno);
    if (job !== undefined) {
      this.known.delete(seqno);
      return Promise.resolve(job);
    }
    return new Promise((resolve) => this.wanted.set(seqno, resolve));
  }

  /** Jobs submitted and not yet taken. */
  get size(): number {
    return this.known.size;
  }
}
