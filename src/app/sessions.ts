// Browser sessions, kept on the server. The browser holds only a random session id (cookie `sid`,
// see cookies.ts); the pending sign-ins, the tokens and the user stay here, in memory.
//
// Everything is bounded, so a flood of requests cannot fill the memory: sessions expire when idle
// and are capped in number, pending sign-ins expire after 10 minutes and are capped per session and
// in total. When a cap is reached the oldest entry goes first: a Map iterates in insertion order.
// Signed-in sessions have a cap of their own, so that no flood of anonymous requests can push a
// signed-in user out (see SessionStore.signedInSessions).

import { randomBytes } from 'node:crypto';
import type { QlikUser } from '../4-api.ts';
import type { QlikSession } from '../5-lifecycle.ts';
import { Trace } from '../trace.ts';

/** A sign-in this browser started at GET /login and has not finished yet. */
export interface PendingLogin {
  state: string;
  codeVerifier: string;
  sessionId: string;
  createdAt: number;
}

/** What a signed-in session holds. Never sent to the browser: only `user.name` and the like are shown. */
export interface SignedIn {
  user: QlikUser;
  /** The tokens, and what src/5-lifecycle.ts needs to use and refresh them. */
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
  /** States of this session's pending sign-ins, oldest first; the sign-ins are in store.pendingLogins. */
  pendingStates: string[];
  /** States this session used or let expire, so that a replayed callback gets a clear page. */
  finishedStates: string[];
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
  pendingLifetimeMs: number;
  maxPendingPerSession: number;
  maxPendingLogins: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  sessionIdleMs: 8 * 60 * 60_000,
  maxSessions: 10_000,
  maxSignedInSessions: 10_000,
  // RFC 9700 §4.5.3 wants short-lived state; the tenant's own consent step also lasts 10 minutes.
  pendingLifetimeMs: 10 * 60_000,
  maxPendingPerSession: 5,
  maxPendingLogins: 10_000,
};

const MAX_FINISHED_STATES = 10;
/** A session's transcript keeps its latest events only: a sign-in makes about 40. */
const MAX_TRACE_EVENTS = 200;

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
   * Every pending sign-in of every session, by its state, oldest first.
   *
   * The tutorial kept one shared queue for all users: storeAuthState() pushed {state, verifier}
   * and the callback took whatever shiftAuth() returned first. Two people signing in at once could
   * get each other's state or code verifier: the check compared against someone else's state, and
   * the code was exchanged with someone else's verifier. Here each pending sign-in is tied to the
   * session that started it and found by its own state: that is the fix (RFC 6749 §10.12).
   */
  pendingLogins: Map<string, PendingLogin>;
  limits: SessionLimits;
  now: () => number;
}

export function createSessionStore(limits: Partial<SessionLimits> = {}, now: () => number = Date.now): SessionStore {
  return {
    sessions: new Map(),
    signedInSessions: new Map(),
    pendingLogins: new Map(),
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
  const session = getSession(store, id);
  if (session === undefined) return undefined;
  const now = store.now();
  if (now - session.lastSeenAt > store.limits.sessionIdleMs) {
    endSession(store, session);
    return undefined;
  }
  session.lastSeenAt = now;
  const { events } = session.trace;
  if (events.length > MAX_TRACE_EVENTS) events.splice(0, events.length - MAX_TRACE_EVENTS);
  // Move it to the end: the Map stays in order of last use.
  const map = mapOf(store, session);
  map.delete(id);
  map.set(id, session);
  return session;
}

/** The session with this id, of either kind, without counting it as a use. */
function getSession(store: SessionStore, id: string): Session | undefined {
  return store.signedInSessions.get(id) ?? store.sessions.get(id);
}

/** The Map that holds this session: the signed-in ones, or the others. */
function mapOf(store: SessionStore, session: Session): Map<string, Session> {
  return store.signedInSessions.has(session.id) ? store.signedInSessions : store.sessions;
}

export function startSession(store: SessionStore): Session {
  dropIdleSessions(store);
  const now = store.now();
  const session: Session = {
    id: newSessionId(),
    createdAt: now,
    lastSeenAt: now,
    pendingStates: [],
    finishedStates: [],
    signedIn: undefined,
    flash: undefined,
    trace: new Trace(),
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
 * Gives the session a new id, after which the old id is worth nothing. Done at sign-in: an
 * attacker who planted a session id in the victim's browser (session fixation, RFC 6265bis §8.6)
 * does not get a signed-in session. The caller sends the new id in a new cookie.
 */
export function renewSessionId(store: SessionStore, session: Session): void {
  const map = mapOf(store, session);
  map.delete(session.id);
  session.id = newSessionId();
  map.set(session.id, session);
  for (const state of session.pendingStates) {
    const login = store.pendingLogins.get(state);
    if (login) login.sessionId = session.id;
  }
}

/**
 * Signs the session in: a new id (renewSessionId), then a place among the signed-in sessions, where
 * anonymous sessions cannot push it out. Over maxSignedInSessions the longest idle signed-in one goes.
 */
export function signInSession(store: SessionStore, session: Session, signedIn: SignedIn): void {
  renewSessionId(store, session);
  store.sessions.delete(session.id);
  store.signedInSessions.delete(session.id); // signed in again: to the end, as just used
  session.signedIn = signedIn;
  store.signedInSessions.set(session.id, session);
  for (const oldest of store.signedInSessions.values()) {
    if (store.signedInSessions.size <= store.limits.maxSignedInSessions) break;
    endSession(store, oldest);
  }
}

/** The session is no longer signed in (its tokens died) but lives on, e.g. for its message: back among the others. */
export function signOutSession(store: SessionStore, session: Session): void {
  session.signedIn = undefined;
  if (!store.signedInSessions.delete(session.id)) return;
  store.sessions.set(session.id, session);
  capSessions(store);
}

/** Forgets the session and its pending sign-ins. */
export function endSession(store: SessionStore, session: Session): void {
  store.sessions.delete(session.id);
  store.signedInSessions.delete(session.id);
  for (const state of session.pendingStates) store.pendingLogins.delete(state);
  session.pendingStates = [];
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

/** Keeps a sign-in that this session just started at GET /login. */
export function addPendingLogin(store: SessionStore, session: Session, login: { state: string; codeVerifier: string }): void {
  dropExpiredPendingLogins(store);
  store.pendingLogins.set(login.state, { ...login, sessionId: session.id, createdAt: store.now() });
  session.pendingStates.push(login.state);
  // A few tabs may sign in at once; more than that is a loop or an attack. Oldest goes first.
  while (session.pendingStates.length > store.limits.maxPendingPerSession) {
    finishPendingLogin(store, session, session.pendingStates[0]!);
  }
  for (const oldest of store.pendingLogins.values()) {
    if (store.pendingLogins.size <= store.limits.maxPendingLogins) break;
    finishPendingLogin(store, getSession(store, oldest.sessionId), oldest.state);
  }
}

/** What the callback's state refers to, among this session's sign-ins. */
export type PendingLookup =
  /** A sign-in of this session, now removed from the store: it cannot be used a second time. */
  | { kind: 'found'; login: PendingLogin }
  /** A sign-in of this session that was already finished, or that expired. */
  | { kind: 'used-or-expired' }
  /** Nothing this session started: forged, tampered, another browser's, or a lost session. */
  | { kind: 'unknown' };

/**
 * Finds and removes this session's pending sign-in with this state. Removing it before the code
 * is exchanged makes it single use (RFC 6749 §10.5, §10.12): a replayed callback finds nothing.
 */
export function takePendingLogin(store: SessionStore, session: Session | undefined, state: string | null): PendingLookup {
  if (session === undefined || state === null) return { kind: 'unknown' };
  if (session.finishedStates.includes(state)) return { kind: 'used-or-expired' };
  const login = store.pendingLogins.get(state);
  // A state of another session is unknown here, and stays where it is: it is not ours to use up.
  if (login === undefined || login.sessionId !== session.id) return { kind: 'unknown' };
  finishPendingLogin(store, session, state);
  if (store.now() - login.createdAt > store.limits.pendingLifetimeMs) return { kind: 'used-or-expired' };
  return { kind: 'found', login };
}

function dropExpiredPendingLogins(store: SessionStore): void {
  const now = store.now();
  for (const login of store.pendingLogins.values()) {
    if (now - login.createdAt <= store.limits.pendingLifetimeMs) break; // the rest are younger
    finishPendingLogin(store, getSession(store, login.sessionId), login.state);
  }
}

/** Removes a pending sign-in and remembers its state as finished in its session. */
function finishPendingLogin(store: SessionStore, session: Session | undefined, state: string): void {
  store.pendingLogins.delete(state);
  if (session === undefined) return;
  session.pendingStates = session.pendingStates.filter((s) => s !== state);
  session.finishedStates.push(state);
  if (session.finishedStates.length > MAX_FINISHED_STATES) session.finishedStates.shift();
}
