export * from './info.js';
export * from './link.js';
export * from './rise-fall.js';
