export * from './chaos.js';
export * from './schedule.js';
