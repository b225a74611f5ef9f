export { main } from './cli.js';
export { frameToJson, frameToText, type FrameJson } from './frame-format.js';
export type { Output } from './output.js';
export { controlRequest } from './control/client.js';
export type { AgentStatus } from './daemon/agent.js';
export type { RunnerStatus } from './daemon/instance-runner.js';
