import { describe, expect, it } from 'vitest';
import { SubmittedJobs } from '../../client/core/submitted-jobs';
import type { RenderBuffer, SubmittedJob } from '../../client/core/renderer';

const buffer: RenderBuffer = { index: 1, fd: 7, ino: 3, size: 16_384n, width: 64, height: 64, stride: 256, format: 0 };
const job = (seqno: number): SubmittedJob => ({ seqno, buffer, frame: seqno, slice: 0, slices: 1 });

describe('SubmittedJobs', () => {
  it('take of a known seqno resolves with its job and forgets it', async () => {
    const jobs = new SubmittedJobs();
    jobs.add(job(4));
    expect(await jobs.take(4)).toEqual(job(4));
    expect(jobs.size).toBe(0);
  });

  it('take of a seqno not yet submitted waits until it is', async () => {
    const jobs = new SubmittedJobs();
    let got: SubmittedJob | undefined;
    const p = jobs.take(5).then((j) => (got = j));
    jobs.add(job(6));
    await Promise.resolve();
    expect(got).toBeUndefined();
    jobs.add(job(5));
    await p;
    expect(got?.seqno).toBe(5);
    expect(jobs.size).toBe(1);
  });
});
