export { main } from './cli.js';
export { frameToJson, frameToText, type FrameJson } from './frame-format.js';
export type { Output } from './output.js';
export { controlRequest } from './control/client.js';
export type { AgentStatus, RunnerStatus } from './status-types.js';
export type { StatusJson } from './status-json.js';
export { type LeaseStore, leaseKeys, openLeaseStore } from './etcd/lease-store.js';
export { LeaseRunner } from './etcd/lease-runner.js';
