export * from './common.ts';
export * from './identity.ts';
export * from './region.ts';
export * from './case.ts';
