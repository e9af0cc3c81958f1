// The public API: the tutorial steps, in order, and what they share.
export * from './errors.ts';
export * from './http.ts';
export * from './client.ts';
export * from './redact.ts';
export * from './1-discovery.ts';
export * from './2-authorize.ts';
export * from './3-token.ts';
export * from './4-api.ts';
export * from './trace.ts';
export * from './5-lifecycle.ts';
export * from './6-machine.ts';
export * from './native-login.ts';
