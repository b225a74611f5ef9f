export * from './info.js';
export * from './link.js';
export * from './rise-fall.js';
export * from './subscriber.js';
export * from './client-list.js';
