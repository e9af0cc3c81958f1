// The web app: createApp() for tests and main.ts, readConfig() for reading the environment.
export { createApp, type App } from './server.ts';
export { readConfig, ConfigError, DEFAULT_SCOPE, CALLBACK_PATH, type AppOptions, type EnvConfig } from './config.ts';
