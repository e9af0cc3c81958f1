// What every route handler is given: the app's context, fixed at start, and the request as data.

import type { IncomingHttpHeaders } from 'node:http';
import type { HttpOptions } from '../http.ts';
import type { ClientConfig } from '../client.ts';
import type { TenantMetadata } from '../3.1-discovery.ts';
import type { TraceEvent } from '../trace.ts';
import type { SandboxFaultInfo } from '../sandbox/index.ts';
import type { Reply } from './reply.ts';
import type { SealKey } from './seal.ts';
import type { Session, SessionStore } from './sessions.ts';

/** Everything the handlers share, fixed at start. */
export interface AppContext {
  metadata: TenantMetadata;
  client: ClientConfig;
  scope: string;
  /** e.g. http://localhost:3000 — compared with the Origin of POSTs. */
  appOrigin: string;
  /** True when the app is served over https: cookies get `Secure` and the `__Host-`/`__Secure-` names. */
  secureCookies: boolean;
  /** Seals pending sign-ins into their cookies (seal.ts). */
  sealKey: SealKey;
  sessions: SessionStore;
  /** Timeout and size cap for calls to the tenant. */
  http: HttpOptions;
  /** The most time one request may spend on the tenant, all calls, refreshes and 429 waits together. */
  deadlineMs: number;
  log: (line: string) => void;
  onTranscript: ((text: string) => void) | undefined;
  /** Discovery's events at start (3.1, redacted): the start of every sign-in's transcript. */
  startEvents: readonly TraceEvent[];
  /** AppOptions.sandbox and sandboxFaults (config.ts). */
  sandbox: boolean;
  sandboxFaults: readonly SandboxFaultInfo[];
}

export interface AppRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  cookies: Map<string, string[]>;
  /** The session id the browser sent, live or not (undefined when none, or two). */
  sessionId: string | undefined;
  /** The browser's session, when its cookie names a live one. */
  session: Session | undefined;
}

export type Handler = (ctx: AppContext, request: AppRequest) => Promise<Reply>;

/** Default AppOptions.deadlineMs: a page that takes longer is not worth waiting for. */
export const DEFAULT_DEADLINE_MS = 15_000;
