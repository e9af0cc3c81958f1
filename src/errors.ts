// What a failed check throws. Each step declares its own checks, so a step copied on its own
// carries its own rulebook; src/checks.ts merges them for the app, the docs and the tests.

/** The tutorial section a check belongs to (3.1–3.4), what comes after it, or the shared plumbing. */
export type Step = 'http' | '3.1' | '3.2' | '3.3' | '3.4' | 'lifecycle' | 'machine';

/** The settings a failure points at, by what they are (an app names its own variables for them). */
export type Setting = 'tenantUrl' | 'clientId' | 'clientSecret' | 'scope' | 'redirectUri';

/** One check: the RFC section or Qlik fact it enforces, what must hold, and what the user can do when it does not. */
export interface Check {
  code: string;
  step: Step;
  rule: string;
  title: string;
  hint: string;
  settings: readonly Setting[];
  /** A value the caller gave that cannot work (a short state, a client without a secret): a ConfigurationError. */
  configuration?: boolean;
}

/** A step's catalogue: each code written once. */
export function defineChecks<Code extends string>(step: Step, rows: Record<Code, Omit<Check, 'code' | 'step' | 'settings'> & { settings?: readonly Setting[] }>): Record<Code, Check> {
  const checks = {} as Record<Code, Check>;
  for (const code of Object.keys(rows) as Code[]) checks[code] = { code, step, settings: [], ...rows[code] };
  return checks;
}

/** Hears each check as it holds (or had nothing to look at), for the transcript (src/trace.ts). */
export type CheckObserver = (check: Check, passed: boolean, notApplicable?: { applicable: false; why: string }) => void;

/** Throws the check's error when the rule does not hold, else tells the observer: the transcript lists checks in the code's order. */
export function check(rule: Check, holds: unknown, message: () => string, onCheck?: CheckObserver, details?: ErrorDetails): asserts holds {
  if (!holds) throw new (rule.configuration ? ConfigurationError : QlikOAuthError)(rule, message(), details);
  onCheck?.(rule, true);
}

/** A check that had nothing to look at (ISS_MISSING when the tenant never promised iss): it did not apply. */
export function skip(rule: Check, why: string, onCheck?: CheckObserver): void {
  onCheck?.(rule, true, { applicable: false, why });
}

/** What an error may carry besides its check. `retryAfter`: seconds the tenant asked us to wait (429). */
export interface ErrorDetails {
  hint?: string | undefined;
  settings?: readonly Setting[] | undefined;
  cause?: unknown;
  status?: number | undefined;
  retryAfter?: number | undefined;
  /** The sign-in is over: the user has to sign in again. */
  signInAgain?: boolean;
  traceId?: string | undefined;
}

/** Every error this project throws on purpose. `message` never holds a secret. */
export class QlikOAuthError extends Error {
  readonly code: string;
  readonly check: Check;
  readonly step: Step;
  readonly rule: string;
  readonly hint: string;
  readonly settings: readonly Setting[];
  readonly status: number | undefined;
  readonly retryAfter: number | undefined;
  readonly signInAgain: boolean;
  /** Qlik's traceId, which Qlik support asks for: the tenant's own, or the one of the error behind this one. */
  readonly traceId: string | undefined;

  constructor(check: Check, message: string, details: ErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.name = new.target.name;
    this.code = check.code;
    this.check = check;
    this.step = check.step;
    this.rule = check.rule;
    this.hint = details.hint ?? check.hint;
    this.settings = details.settings ?? check.settings;
    this.status = details.status;
    this.retryAfter = details.retryAfter;
    this.signInAgain = details.signInAgain ?? false;
    this.traceId = details.traceId ?? (details.cause instanceof QlikOAuthError ? details.cause.traceId : undefined);
  }
}

/** A value given to the library cannot work: the caller's mistake, not the user's. */
export class ConfigurationError extends QlikOAuthError {}

/**
 * A value the tenant (or a callback URL) sent, as a message shows it: a string in quotes, cut to 100
 * characters; a short list of short strings as JSON; anything else by its kind. Never a whole value:
 * it may be a megabyte long, or an object with a token inside (RFC 6750 §5.3).
 */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (Array.isArray(value) && value.length <= 10 && value.every((item) => typeof item === 'string' && item.length <= 40)) return JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return String(value);
  return Array.isArray(value) ? `an array of ${value.length} items` : 'an object';
}

/** Free text, cut to `max` characters: keeps pages, logs and transcripts small. */
export function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}
