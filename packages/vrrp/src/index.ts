export * from './address.js';
export * from './codec.js';
export * from './election.js';
export * from './instance.js';
export * from './timers.js';
