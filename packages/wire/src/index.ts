export * from './ethernet.js';
export * from './frame.js';
export * from './ndp.js';
