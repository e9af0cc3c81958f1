// The public API: the tutorial steps, in order, and what they share.
export * from './errors.ts';
export * from './http.ts';
export * from './tenant-error.ts';
export * from './client.ts';
export * from './redact.ts';
export * from './3.1-discovery.ts';
export * from './3.2-authorize.ts';
export * from './3.3-token.ts';
export * from './3.4-api.ts';
export * from './checks.ts';
export * from './trace.ts';
export * from './lifecycle.ts';
export * from './machine.ts';
export * from './native-login.ts';
export * from './private-key-jwt.ts';
