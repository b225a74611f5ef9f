export { main } from './cli.js';
export { frameToJson, frameToText, type FrameJson } from './frame-format.js';
export type { Output } from './output.js';
