// One worker thread of batch.ts: runs its share of the schedules and posts the summary.

import { parentPort, workerData } from 'node:worker_threads';
import { type Job, runJob } from './batch.js';

parentPort?.postMessage(runJob(workerData as Job));
