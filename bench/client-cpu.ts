// Part 1: the client's own CPU per sign-in step, with no network. Each step's processing half is fed
// a crafted response (bench/lib/fixtures.ts) and timed over batches: one sample times `iterations`
// calls back to back, so a per-call figure in µs is well above the timer's resolution.

import { timingSafeEqual } from 'node:crypto';
import { processDiscoveryResponse } from '../src/3.1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../src/3.2-authorize.ts';
import { processTokenResponse, validateCallback } from '../src/3.3-token.ts';
import { processUserResponse } from '../src/3.4-api.ts';
import { CLIENT, ISSUER, METADATA, METADATA_BODY, SCOPE, USER_BODY, callbackUrl, result, tokenBody } from './lib/fixtures.ts';
import { roundSummary, summarize, type Summary } from './lib/stats.ts';

export interface CpuSettings {
  /** Samples per measurement; the median, min and max are over these. */
  samples: number;
  /** Target wall time of one sample, in ms: sets how many calls one sample makes. */
  sampleMs: number;
  /** Calls made before timing, in ms, so that the code is optimised. */
  warmupMs: number;
}

export interface CpuMeasurement {
  id: string;
  name: string;
  /** µs per call: median, min and max over the samples. */
  us: Summary;
  iterationsPerSample: number;
}

export interface CpuPart extends CpuMeasurement {
  /** Why this part costs what it does. */
  why: string;
}

export interface CpuStep extends CpuMeasurement {
  /** What the step's time is made of, each part timed on its own. */
  parts: CpuPart[];
}

export interface ClientCpuResult {
  settings: CpuSettings;
  /** The five steps, then the whole sign-in's client-side work. */
  steps: CpuStep[];
  slowest: { id: string; name: string; medianUs: number; explanation: string };
}

// Results are folded into this so the optimiser cannot drop a call whose result is unused.
let sink = 0;
function consume(value: unknown): void {
  sink += typeof value === 'string' ? value.length : value ? 1 : 0;
}

function timeBatch(fn: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) consume(fn());
  return Number(process.hrtime.bigint() - start) / 1e6; // ms
}

/**
 * Warms up, then picks a batch size that lasts about sampleMs. A pause (GC, another process) while
 * calibrating makes calls look slower and the batch too small, never too large: so the larger of
 * two estimates, each from the fastest of three batches.
 */
function calibrate(fn: () => unknown, settings: CpuSettings): number {
  const warmEnd = performance.now() + settings.warmupMs;
  while (performance.now() < warmEnd) timeBatch(fn, 20);
  return Math.max(estimateBatch(fn, settings), estimateBatch(fn, settings));
}

function estimateBatch(fn: () => unknown, settings: CpuSettings): number {
  let iterations = 16;
  for (;;) {
    const ms = Math.min(timeBatch(fn, iterations), timeBatch(fn, iterations), timeBatch(fn, iterations)); // fastest of three
    if (ms >= settings.sampleMs / 8 || iterations >= 1 << 22) {
      return Math.max(1, Math.round((iterations * settings.sampleMs) / Math.max(ms, 1e-3)));
    }
    iterations *= 4;
  }
}

/**
 * Times every function `samples` times, round-robin: sample 1 of each, then sample 2 of each, …
 * On a shared machine a burst of other work then falls on all of them alike, and their ratios hold.
 */
export function measureAll(fns: readonly (() => unknown)[], settings: CpuSettings): { us: Summary; iterationsPerSample: number }[] {
  const iterations = fns.map((fn) => calibrate(fn, settings));
  const perCallUs: number[][] = fns.map(() => []);
  for (let s = 0; s < settings.samples; s++) {
    fns.forEach((fn, i) => perCallUs[i]!.push((timeBatch(fn, iterations[i]!) * 1000) / iterations[i]!));
  }
  return fns.map((_, i) => ({ us: roundSummary(summarize(perCallUs[i]!)), iterationsPerSample: iterations[i]! }));
}

interface Def {
  id: string;
  name: string;
  run: () => unknown;
  parts: { id: string; name: string; why: string; run: () => unknown }[];
}

function definitions(): Def[] {
  const metadataResult = result(METADATA_BODY);
  const tokenResult = result(tokenBody());
  const userResult = result(USER_BODY);
  const state = createState();
  const callback = callbackUrl(state);
  const expected = { expectedState: state, issuer: ISSUER, issRequired: false };
  const verifier = createCodeVerifier();
  const challenge = codeChallengeS256(verifier);
  // The callback of a sign-in, given its state: the tenant's half, so built as cheaply as possible.
  const callbackPrefix = callbackUrl('STATE').replace(/state=STATE.*$/, 'state=');
  const callbackSuffix = `&iss=${encodeURIComponent(ISSUER)}`;

  const parseJson = (body: string) => ({
    id: 'json-parse',
    name: `JSON.parse of the ${Buffer.byteLength(body)}-byte body`,
    why: 'builds a fresh object with a string for every field',
    run: () => JSON.parse(body),
  });
  const randomPart = (id: string, name: string, run: () => string) => ({
    id,
    name,
    why: 'randomBytes(32) from the CSPRNG, then base64url',
    run,
  });

  return [
    {
      id: 'discovery',
      name: 'discovery: processDiscoveryResponse',
      run: () => processDiscoveryResponse(metadataResult, ISSUER),
      parts: [
        parseJson(METADATA_BODY),
        {
          id: 'endpoint-urls',
          name: 'new URL() of the 3 endpoints (absolute + https checks)',
          why: 'WHATWG URL parsing of each endpoint, with a new URL object each',
          run: () => [new URL(METADATA.authorizationEndpoint), new URL(METADATA.tokenEndpoint), new URL(METADATA.revocationEndpoint!)],
        },
      ],
    },
    {
      id: 'authorize',
      name: 'authorize: verifier + S256 challenge + state + URL',
      run: () => {
        const codeVerifier = createCodeVerifier();
        return buildAuthorizationUrl(METADATA, CLIENT, { scope: SCOPE, state: createState(), codeChallenge: codeChallengeS256(codeVerifier) }).href;
      },
      parts: [
        randomPart('verifier', 'createCodeVerifier (randomBytes(32) → base64url)', () => createCodeVerifier()),
        {
          id: 'challenge',
          name: 'codeChallengeS256 (createHash SHA-256 → base64url)',
          why: 'a Hash object, one update, one digest',
          run: () => codeChallengeS256(verifier),
        },
        randomPart('state', 'createState (randomBytes(32) → base64url)', () => createState()),
        {
          id: 'url',
          name: 'buildAuthorizationUrl + .href (new URL, 7 parameters, one serialisation)',
          why: "WHATWG URL parsing of the endpoint, a detached URLSearchParams filled and serialised once, then the URL's search set (parsed again)",
          run: () => buildAuthorizationUrl(METADATA, CLIENT, { scope: SCOPE, state, codeChallenge: challenge }).href,
        },
      ],
    },
    {
      id: 'callback',
      name: 'callback: validateCallback',
      run: () => validateCallback(callback, expected),
      parts: [
        {
          id: 'url-parse',
          name: 'new URL(callback).searchParams + repeated-parameter scan',
          why: "WHATWG URL parsing of the callback, then URLSearchParams parsing and one pass over the names with a Set (validateCallback's code, copied here)",
          run: () => {
            const params = new URL(callback).searchParams;
            const seen = new Set<string>();
            for (const name of params.keys()) seen.add(name);
            return seen.size === params.size;
          },
        },
        {
          id: 'same-secret',
          name: 'state compared in constant time (two Buffers, length check, timingSafeEqual)',
          why: "a Buffer per side (UTF-8 encoding), then one constant-time compare (sameSecret's code in 3.3-token.ts, copied: it is not exported)",
          run: () => {
            const a = Buffer.from(state);
            const b = Buffer.from(state);
            return a.length === b.length && timingSafeEqual(a, b);
          },
        },
      ],
    },
    {
      id: 'token',
      name: 'token response: processTokenResponse',
      run: () => processTokenResponse(tokenResult, Date.now()),
      parts: [
        parseJson(tokenResult.body),
        {
          id: 'expiry',
          name: 'expires_at: Date.parse of the ISO date',
          why: 'date string parsing',
          run: () => Date.parse('2030-01-01T06:00:00.000Z'),
        },
      ],
    },
    {
      id: 'api',
      name: 'API response: processUserResponse',
      run: () => processUserResponse(userResult),
      parts: [parseJson(USER_BODY)],
    },
    {
      id: 'sign-in',
      name: 'whole sign-in, client side (authorize + callback + token + API; discovery is once per start)',
      run: () => {
        const signInState = createState();
        const codeVerifier = createCodeVerifier();
        const url = buildAuthorizationUrl(METADATA, CLIENT, { scope: SCOPE, state: signInState, codeChallenge: codeChallengeS256(codeVerifier) });
        consume(url.href);
        validateCallback(callbackPrefix + signInState + callbackSuffix, { expectedState: signInState, issuer: ISSUER, issRequired: false });
        const tokens = processTokenResponse(tokenResult, Date.now());
        consume(tokens.accessToken);
        return processUserResponse(userResult).name;
      },
      parts: [],
    },
  ];
}

export function runClientCpu(settings: CpuSettings, progress: (line: string) => void = () => {}): ClientCpuResult {
  const defs = definitions();
  const fns = defs.flatMap((def) => [def.run, ...def.parts.map((part) => part.run)]);
  const measured = measureAll(fns, settings);
  let next = 0;
  const steps: CpuStep[] = defs.map((def) => {
    const step = measured[next++]!;
    const parts: CpuPart[] = def.parts.map((part) => ({ id: part.id, name: part.name, why: part.why, ...measured[next++]! }));
    progress(`  ${def.name}: ${step.us.median} µs`);
    return { id: def.id, name: def.name, ...step, parts };
  });
  if (sink === -1) progress('(unreachable)'); // keeps `sink` observable
  const single = steps.filter((step) => step.id !== 'sign-in');
  const slowest = single.reduce((a, b) => (b.us.median > a.us.median ? b : a));
  return { settings, steps, slowest: { id: slowest.id, name: slowest.name, medianUs: slowest.us.median, explanation: explain(slowest) } };
}

/** Says what the slowest step's time goes to, from its parts' own timings. */
function explain(step: CpuStep): string {
  const parts = [...step.parts].sort((a, b) => b.us.median - a.us.median);
  const total = step.us.median;
  const share = (us: number) => `${Math.round((100 * us) / total)} %`;
  const partsUs = parts.reduce((sum, part) => sum + part.us.median, 0);
  const top = parts[0];
  const lines = [
    top === undefined
      ? `${step.name} is the slowest client step (${total} µs median).`
      : `${step.name} is the slowest client step (${total} µs median); its biggest part is ${top.name}, ${top.us.median} µs (${share(top.us.median)}).`,
    ...parts.map((part) => `  - ${part.name}: ${part.us.median} µs (${share(part.us.median)}) — ${part.why}`),
  ];
  // Parts that cost for the same reason (the state and the verifier, say), added up.
  const byWhy = new Map<string, CpuPart[]>();
  for (const part of parts) byWhy.set(part.why, [...(byWhy.get(part.why) ?? []), part]);
  for (const same of byWhy.values()) {
    if (same.length < 2) continue;
    const us = Math.round(same.reduce((sum, part) => sum + part.us.median, 0) * 100) / 100;
    lines.push(`  - together, ${same.map((part) => part.id).join(' + ')} (the same work twice): ${us} µs (${share(us)})`);
  }
  if (parts.length > 0) {
    const rest = total - partsUs;
    lines.push(
      rest > 0
        ? `  - the rest, ${Math.round(rest * 100) / 100} µs (${share(rest)}): the step's own checks and objects, and the parts costing more together than alone (allocation, GC)`
        : `  - timed on their own the parts add up to ${Math.round(partsUs * 100) / 100} µs, about the whole step: the step is little more than these calls`,
    );
  }
  return lines.join('\n');
}
