/**
 * The wire fuzzer's hostile clients in a worker thread (wire-fuzz.ts,
 * inWorker): the same load, its own event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runHostileLoad, type HostileLoad } from './wire-fuzz';

const load = workerData as HostileLoad;
const totals = await runHostileLoad(load, (code, message) => parentPort?.postMessage({ displayError: { code, message } }));
parentPort?.postMessage({ done: totals });
