// Browser sessions, kept on the server. The browser holds only a random session id (cookie `sid`,
// see cookies.ts); the tokens and the user stay here, in memory. A sign-in under way is not kept
// here at all: its state and verifier are sealed into a cookie of its own (cookies.ts), so no flood
// of requests can push it out.
//
// Everything is bounded, so a flood of requests cannot fill the memory: sessions expire when idle
// and are capped in number; a session that is not signed in keeps a small transcript (a few KB,
// whatever it is sent). When a cap is reached the oldest entry goes first: a Map iterates in
// insertion order. Signed-in sessions have a cap of their own, so that no flood of anonymous
// requests can push a signed-in user out (see SessionStore.signedInSessions).

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
 * The transcript budget, in characters, of a session nobody is signed in to: one failed sign-in's
 * last events. Anyone can make such a session, so it must stay small whatever it is sent; with the
 * Trace's own caps (a note 1,000 characters, a check's message 600, ten remembered secrets of a few
 * bytes each) it holds a few KB. A signed-in session gets the Trace's default budget.
 */
export const ANONYMOUS_TRACE_CHARS = 4_000;

/** An id the browser held before a sign-in gave it a new one, kept for the sign-in's other tabs. */
interface Alias {
  session: Session;
  /** The end of the sign-in's lifetime: no tab of it can come back later. */
  until: number;
}

export interface SessionStore {
  /** Sessions that are not signed in, by id, in order of last use: the first entry is the longest idle. */
  sessions: Map<string, Session>;
  /**
   * Signed-in sessions, by id, in order of last use, with a cap of their own (maxSignedInSessions).
   *
   * Anyone can make a session: a GET /login without a cookie makes one. When all sessions shared one
   * cap, a flood of such requests pushed out the longest idle sessions — signed-in users among them,
   * who found themselves signed out. Kept apart, a signed-in session can only be pushed out by other
   * signed-in sessions, and each of those took a real sign-in at the tenant.
   */
  signedInSessions: Map<string, Session>;
  /**
   * States of sign-ins that reached the callback, with when they may be forgotten (the end of the
   * sign-in's lifetime). Single use (RFC 6749 §10.5, §10.12) even for a request that replays the
   * sign-in's cookie as it was before the callback replaced it, e.g. a double-submitted callback.
   */
  usedStates: Map<string, number>;
  /**
   * By the binding (cookies.ts bindingOf) of an id that a sign-in replaced: the session it became.
   * Tabs started together at GET /login are bound to the same old id; the first to finish renews
   * the id, and the others join its session (callback.ts) instead of failing or overwriting its cookie.
   * Only a sign-in at the tenant adds one, so anonymous traffic cannot push them out.
   */
  aliases: Map<string, Alias>;
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
export function newSessionId(): string {
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
  capSessions(store);
  return session;
}

/** Over the cap: the longest idle sessions that are not signed in go first. Signed-in ones are not counted here. */
function capSessions(store: SessionStore): void {
  for (const oldest of store.sessions.values()) {
    if (store.sessions.size <= store.limits.maxSessions) break;
    endSession(store, oldest);
  }
}

/**
 * Signs the session in: a new id, then a place among the signed-in sessions, where anonymous
 * sessions cannot push it out. Over maxSignedInSessions the longest idle signed-in one goes.
 *
 * The new id: an attacker who planted a session id in the victim's browser (session fixation,
 * RFC 6265bis §8.6) does not get a signed-in session; the old id is worth nothing, except to the
 * callback of another tab of this sign-in (`binding`: see SessionStore.aliases). The caller sends
 * the new id in a new cookie.
 */
export function signInSession(store: SessionStore, session: Session, signedIn: SignedIn, binding: string): void {
  store.sessions.delete(session.id);
  store.signedInSessions.delete(session.id);
  session.id = newSessionId();
  session.signedIn = signedIn;
  session.lastSeenAt = store.now();
  store.signedInSessions.set(session.id, session);
  for (const oldest of store.signedInSessions.values()) {
    if (store.signedInSessions.size <= store.limits.maxSignedInSessions) break;
    endSession(store, oldest);
  }
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
  capSessions(store);
}

/** Forgets the session. */
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
 * Marks a sign-in's state as used, before its code is exchanged. False when it already was: a
 * second callback for one sign-in (RFC 6749 §10.5, §10.12). Entries go when the sign-in's lifetime
 * is over, or, past maxUsedStates, oldest first; the browser's own marker cookie (cookies.ts) still
 * tells a reload apart after that.
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
