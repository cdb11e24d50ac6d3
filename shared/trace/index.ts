/** The trace layer: event types, wire encoding, history ring, exports. */
export * from './events';
export * from './encode';
export * from './ring';
export * from './chrome-trace';
export * from './metrics';
export * from './frame-stats';
