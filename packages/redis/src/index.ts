export * from './info.js';
export * from './rise-fall.js';
