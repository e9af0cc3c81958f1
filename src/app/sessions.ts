// Browser sessions, kept on the server. The browser holds only a random session id (cookie `sid`,
// see cookies.ts); the tokens and the user stay here, in memory. A sign-in under way is not kept
// here at all: its state and verifier are sealed into a cookie of its own (cookies.ts), so no flood
// of requests can push it out.
//
// Everything is bounded, so a flood of requests cannot fill the memory: sessions expire when idle
// and are capped in number (signed-in ones apart: SessionStore.signedInSessions); a session that is
// not signed in keeps a small transcript. When a cap is reached the oldest entry goes first: a Map
// iterates in insertion order.

import { randomBytes } from 'node:crypto';
import type { QlikUser } from '../3.4-api.ts';
import type { QlikSession } from '../lifecycle.ts';
import { Trace } from '../trace.ts';

/** What a signed-in session holds. Never sent to the browser: only `user.name` and the like are shown. */
export interface SignedIn {
  user: QlikUser;
  /** The tokens, and what src/lifecycle.ts needs to use and refresh them. */
  qlik: QlikSession;
  signedInAt: number;
  /** The spaces fetched with /users/me at sign-in, settled; the first GET / shows them, then drops them. */
  firstSpaces?: Promise<string[]> | undefined;
}

/** A one-time message for the next page, e.g. "You are signed out". */
export interface Flash {
  kind: 'info' | 'warning';
  text: string;
}

export interface Session {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  signedIn: SignedIn | undefined;
  flash: Flash | undefined;
  /** This browser's protocol transcript, redacted (src/trace.ts), shown at GET /trace. */
  trace: Trace;
}

export interface SessionLimits {
  sessionIdleMs: number;
  /** Sessions that are not signed in (a sign-in under way, a message to show). */
  maxSessions: number;
  /** Signed-in sessions, capped apart: only a real sign-in at the tenant can add one. */
  maxSignedInSessions: number;
  /** How long a sign-in started at GET /login may take. */
  pendingLifetimeMs: number;
  /** States of finished sign-ins remembered, so that a second callback with one is refused. */
  maxUsedStates: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  sessionIdleMs: 8 * 60 * 60_000,
  maxSessions: 10_000,
  maxSignedInSessions: 10_000,
  // RFC 9700 §4.5.3 wants short-lived state; the tenant's own consent step also lasts 10 minutes.
  pendingLifetimeMs: 10 * 60_000,
  maxUsedStates: 10_000,
};

/**
 * The transcript budget, in characters, of a session nobody is signed in to: anyone can make one, so
 * it holds a failed sign-in's last events, a few KB whatever it is sent. Signed in: the Trace's default.
 */
export const ANONYMOUS_TRACE_CHARS = 4_000;

export interface SessionStore {
  /** Sessions that are not signed in, by id, in order of last use: the first entry is the longest idle. */
  sessions: Map<string, Session>;
  /**
   * Signed-in sessions, by id, in order of last use, with a cap of their own: anyone can make a
   * session (GET /login without a cookie), so with one shared cap a flood of them pushed signed-in
   * users out. Apart, only other sign-ins at the tenant can push one out.
   */
  signedInSessions: Map<string, Session>;
  /**
   * States of sign-ins that reached the callback, with when they may be forgotten (the end of the
   * sign-in's lifetime). Single use (RFC 6749 §10.5, §10.12) even for a request that replays the
   * sign-in's cookie as it was before the callback replaced it, e.g. a double-submitted callback.
   */
  usedStates: Map<string, number>;
  /**
   * By the binding (cookies.ts bindingOf) of an id that a sign-in replaced: the session it became,
   * until the sign-in's lifetime ends. Tabs started together at GET /login share the old id; the
   * first to finish renews it, and the others join its session (callback.ts). Only a sign-in at the
   * tenant adds one.
   */
  aliases: Map<string, { session: Session; until: number }>;
  limits: SessionLimits;
  now: () => number;
}

export function createSessionStore(limits: Partial<SessionLimits> = {}, now: () => number = Date.now): SessionStore {
  return {
    sessions: new Map(),
    signedInSessions: new Map(),
    usedStates: new Map(),
    aliases: new Map(),
    limits: { ...DEFAULT_SESSION_LIMITS, ...limits },
    now,
  };
}

/** 32 random bytes, base64url (43 characters): an id nobody can guess (RFC 6265bis §8.6 hijacking). */
function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** The session with this id, if it exists and is not idle too long. Counts as a use. */
export function findSession(store: SessionStore, id: string | undefined): Session | undefined {
  if (id === undefined) return undefined;
  const map = store.signedInSessions.has(id) ? store.signedInSessions : store.sessions;
  const session = map.get(id);
  if (session === undefined) return undefined;
  const now = store.now();
  if (now - session.lastSeenAt > store.limits.sessionIdleMs) {
    endSession(store, session);
    return undefined;
  }
  session.lastSeenAt = now;
  // Move it to the end: the Map stays in order of last use.
  map.delete(id);
  map.set(id, session);
  return session;
}

/** A new session that is not signed in, with a small transcript (ANONYMOUS_TRACE_CHARS). */
export function startSession(store: SessionStore): Session {
  dropIdleSessions(store);
  const now = store.now();
  const session: Session = {
    id: newSessionId(),
    createdAt: now,
    lastSeenAt: now,
    signedIn: undefined,
    flash: undefined,
    trace: new Trace([], { maxChars: ANONYMOUS_TRACE_CHARS }),
  };
  store.sessions.set(session.id, session);
  cap(store, store.sessions, store.limits.maxSessions);
  return session;
}

/** Over the cap, the longest idle sessions of this map go first. */
function cap(store: SessionStore, map: Map<string, Session>, max: number): void {
  for (const oldest of map.values()) {
    if (map.size <= max) break;
    endSession(store, oldest);
  }
}

/**
 * Signs the session in under a new id (the caller sends it in a new cookie), among the signed-in
 * sessions. Session fixation (RFC 6265bis §8.6): a planted id never becomes a signed-in session; the
 * old id is worth nothing, except to another tab of this sign-in (`binding`: SessionStore.aliases).
 */
export function signInSession(store: SessionStore, session: Session, signedIn: SignedIn, binding: string): void {
  store.sessions.delete(session.id);
  store.signedInSessions.delete(session.id);
  session.id = newSessionId();
  session.signedIn = signedIn;
  session.lastSeenAt = store.now();
  store.signedInSessions.set(session.id, session);
  cap(store, store.signedInSessions, store.limits.maxSignedInSessions);
  store.aliases.delete(binding);
  store.aliases.set(binding, { session, until: store.now() + store.limits.pendingLifetimeMs });
  for (const [key, alias] of store.aliases) {
    if (store.aliases.size <= store.limits.maxSignedInSessions && alias.until > store.now()) break;
    store.aliases.delete(key);
  }
}

/**
 * The session a sign-in bound to `binding` became (signInSession gave it a new id), while that
 * sign-in's lifetime lasts and the session is still signed in: for the sign-in's other tabs, which
 * come back with the old id or the new one.
 */
export function signedInAlias(store: SessionStore, binding: string): Session | undefined {
  const alias = store.aliases.get(binding);
  if (alias === undefined || alias.until <= store.now()) return undefined;
  return store.signedInSessions.get(alias.session.id) === alias.session ? alias.session : undefined;
}

/**
 * The session is no longer signed in (its tokens died, or it signed out) but lives on, e.g. for its
 * message: back among the others, with the small transcript budget of a session nobody is signed in to.
 */
export function signOutSession(store: SessionStore, session: Session): void {
  session.signedIn = undefined;
  session.trace.limitTo(ANONYMOUS_TRACE_CHARS);
  if (!store.signedInSessions.delete(session.id)) return;
  store.sessions.set(session.id, session);
  cap(store, store.sessions, store.limits.maxSessions);
}

export function endSession(store: SessionStore, session: Session): void {
  store.sessions.delete(session.id);
  store.signedInSessions.delete(session.id);
  session.signedIn = undefined;
}

function dropIdleSessions(store: SessionStore): void {
  const now = store.now();
  for (const map of [store.sessions, store.signedInSessions]) {
    for (const session of map.values()) {
      if (now - session.lastSeenAt <= store.limits.sessionIdleMs) break; // the rest were used later
      endSession(store, session);
    }
  }
}

/** True when a callback with this state was already taken (and the sign-in's lifetime is not over). */
export function isStateUsed(store: SessionStore, state: string): boolean {
  const until = store.usedStates.get(state);
  return until !== undefined && until > store.now();
}

/**
 * Marks a sign-in's state as used, before its code is exchanged; false when it already was (RFC 6749
 * §10.5, §10.12). Past maxUsedStates the oldest go; the browser's marker cookie still tells a reload.
 */
export function markStateUsed(store: SessionStore, state: string, createdAt: number): boolean {
  const now = store.now();
  for (const [old, until] of store.usedStates) {
    if (until > now && store.usedStates.size < store.limits.maxUsedStates) break;
    store.usedStates.delete(old);
  }
  if (store.usedStates.has(state)) return false;
  store.usedStates.set(state, createdAt + store.limits.pendingLifetimeMs);
  return true;
}
