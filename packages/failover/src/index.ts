export * from './history.js';
export * from './data-guard.js';
