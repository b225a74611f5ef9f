export * from './lab.js';
export * from './procs.js';
