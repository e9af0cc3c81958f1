// Part 5: the CPU of a whole client-side sign-in — discovery, the authorization URL, the callback's
// checks, the token exchange and /users/me — by this project's steps, by oauth4webapi and by
// openid-client (the library the tutorial uses), with the network taken out: each is given the same
// canned fetch (bench/lib/canned-tenant.ts), which answers at once with a new Response.
//
// All three run in this one process, alternated sample by sample (and in a rotating order), so a
// burst of other work on this shared machine falls on all of them alike. A sample is a batch of
// sign-ins run one after another; its cost is the process's CPU time (user + system, all threads:
// WebCrypto's digest runs on libuv's pool) divided by the batch size.
//
// Also timed: the canned fetch alone, and one httpRequest() around it, so that httpRequest's own
// overhead per call (src/http.ts: timeout, body cap, manual redirect, exchange hook) is shown apart.
//
// oauth4webapi and openid-client are devDependencies of the bench, never of src/.

import * as oauth from 'oauth4webapi';
import * as openid from 'openid-client';
import { discover } from '../src/3.1-discovery.ts';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../src/3.2-authorize.ts';
import { exchangeCode, validateCallback } from '../src/3.3-token.ts';
import { getCurrentUser } from '../src/3.4-api.ts';
import { httpRequest, type HttpOptions } from '../src/http.ts';
import { cannedFetch, type CannedTally, type Fetch } from './lib/canned-tenant.ts';
import { CLIENT, ISSUER, SCOPE } from './lib/fixtures.ts';
import { round, roundSummary, sortNumbers, summarize, type Summary } from './lib/stats.ts';

export interface CompareSettings {
  /** Samples per client; each sample is one batch of sign-ins. */
  samples: number;
  /** Target CPU time of one batch, in ms: sets how many sign-ins a batch holds. */
  sampleMs: number;
  /** Sign-ins (or calls) made before timing, per flow, so that the code is optimised. */
  warmup: number;
}

export interface CompareFlow {
  id: 'ours' | 'oauth4webapi' | 'openid-client' | 'canned-fetch' | 'http-request';
  name: string;
  /** CPU µs per sign-in (per call for the two fetch rows): median, min, max over the samples. */
  cpuUs: Summary;
  /** Wall µs per sign-in, for comparison: the digest's thread hop shows here, not in the CPU. */
  wallUs: Summary;
  perSample: number;
  /** The canned tenant's calls per sign-in, by endpoint: the flows do the same work. */
  calls: Record<string, number>;
}

export interface CompareResult {
  settings: CompareSettings;
  versions: { oauth4webapi: string; 'openid-client': string };
  flows: CompareFlow[];
  /**
   * ours / oauth4webapi and ours / openid-client: the median, over the rounds, of the ratio of the
   * two samples taken in the same round, side by side. A slow spell of the machine falls on both
   * samples of a round, so it cancels out of their ratio; a ratio of medians keeps more of it.
   */
  ratio: { oauth4webapi: Summary; openidClient: Summary };
  /**
   * How steady the median ratio ours / oauth4webapi is: a 95 % confidence interval of that median,
   * distribution-free (the order statistics n/2 ∓ 0.98·√n of the per-round ratios). Min and max are
   * single rounds that a pause or a collection fell on.
   */
  ratioMedianCi95?: { oauth4webapi: [number, number] };
  /** The same ratios from the CPU medians, for comparison. */
  ratioOfMedians: { oauth4webapi: number; openidClient: number };
  /** httpRequest's own CPU per call: the median over the rounds of http-request − canned-fetch. */
  httpRequestOverheadUs: number;
  /**
   * Each client's own work per sign-in, roughly: its sample minus three canned-fetch calls of the
   * same round (median over the rounds), and ours / oauth4webapi of that. The canned Response costs
   * every client the same, and pulls the whole ratio towards 1.
   */
  ownUs: { ours: number; oauth4webapi: number; openidClient: number; ratioToOauth4webapi: number };
}

const CALLBACK_PREFIX = `${CLIENT.redirectUri}?code=sbx_ac_${'C'.repeat(43)}&state=`;
const CALLBACK_SUFFIX = `&iss=${encodeURIComponent(ISSUER)}`;

let sink = 0;

/** This project's steps, as src/app/routes.ts strings them together. */
function ours(fetchImpl: Fetch): () => Promise<void> {
  const http: HttpOptions = { fetch: fetchImpl };
  return async () => {
    const metadata = await discover(ISSUER, http);
    const state = createState();
    const codeVerifier = createCodeVerifier();
    const url = buildAuthorizationUrl(metadata, CLIENT, { scope: SCOPE, state, codeChallenge: codeChallengeS256(codeVerifier) });
    sink += url.href.length;
    const { code } = validateCallback(CALLBACK_PREFIX + state + CALLBACK_SUFFIX, { expectedState: state, issuer: metadata.issuer, issRequired: metadata.issParameterSupported });
    const tokens = await exchangeCode(metadata, CLIENT, { code, codeVerifier }, http);
    const user = await getCurrentUser(metadata, tokens.accessToken, http);
    sink += user.name.length;
  };
}

/** oauth4webapi, as its README's authorization code example does it. */
function withOauth4webapi(fetchImpl: Fetch): () => Promise<void> {
  const issuer = new URL(ISSUER);
  const client: oauth.Client = { client_id: CLIENT.clientId };
  const auth = oauth.ClientSecretPost(CLIENT.clientSecret);
  const options = { [oauth.customFetch]: fetchImpl };
  return async () => {
    // RFC 8414's path, as ours asks first: Qlik documents it.
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', CLIENT.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', SCOPE);
    url.searchParams.set('code_challenge', codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    sink += url.href.length;
    const params = oauth.validateAuthResponse(as, client, new URL(CALLBACK_PREFIX + state + CALLBACK_SUFFIX), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, CLIENT.redirectUri, codeVerifier, options);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    const me = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${ISSUER}/api/v1/users/me`), undefined, undefined, options);
    const user = (await me.json()) as { name: string };
    sink += user.name.length;
  };
}

/** openid-client v6, as the tutorial's flow reads with its current API. */
function withOpenidClient(fetchImpl: Fetch): () => Promise<void> {
  const issuer = new URL(ISSUER);
  const usersMe = new URL(`${ISSUER}/api/v1/users/me`);
  return async () => {
    const config = await openid.discovery(issuer, CLIENT.clientId, undefined, openid.ClientSecretPost(CLIENT.clientSecret), {
      [openid.customFetch]: fetchImpl,
      algorithm: 'oauth2',
    });
    const codeVerifier = openid.randomPKCECodeVerifier();
    const codeChallenge = await openid.calculatePKCECodeChallenge(codeVerifier);
    const state = openid.randomState();
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: CLIENT.redirectUri,
      scope: SCOPE,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
    });
    sink += url.href.length;
    const tokens = await openid.authorizationCodeGrant(config, new URL(CALLBACK_PREFIX + state + CALLBACK_SUFFIX), {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
    });
    const me = await openid.fetchProtectedResource(config, tokens.access_token, usersMe, 'GET');
    const user = (await me.json()) as { name: string };
    sink += user.name.length;
  };
}

/** The canned fetch alone, reading the body as every client does. */
function fetchOnly(fetchImpl: Fetch): () => Promise<void> {
  return async () => {
    const response = await fetchImpl(`${ISSUER}/api/v1/users/me`, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual' });
    sink += (await response.text()).length;
  };
}

/** One httpRequest() around the canned fetch: the difference from fetchOnly is httpRequest's own work. */
function httpRequestOnly(fetchImpl: Fetch): () => Promise<void> {
  const options: HttpOptions = { fetch: fetchImpl, onExchange: () => {} };
  return async () => {
    const result = await httpRequest({ method: 'GET', url: `${ISSUER}/api/v1/users/me`, headers: { authorization: 'Bearer x' } }, options);
    sink += result.body.length;
  };
}

interface Sample {
  cpuUs: number;
  wallUs: number;
}

async function timeBatch(run: () => Promise<void>, count: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await run();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / count, wallUs: (wall * 1000) / count };
}

const FLOWS = [
  { id: 'ours', name: 'this project (src/ steps)', make: ours },
  { id: 'oauth4webapi', name: 'oauth4webapi', make: withOauth4webapi },
  { id: 'openid-client', name: 'openid-client (the tutorial\'s library)', make: withOpenidClient },
  { id: 'canned-fetch', name: 'one call: the canned fetch alone + reading the body', make: fetchOnly },
  { id: 'http-request', name: 'one call: httpRequest() around the canned fetch', make: httpRequestOnly },
] as const;

export async function runClientCompare(settings: CompareSettings, progress: (line: string) => void = () => {}): Promise<CompareResult> {
  // First, each flow once with a counting fetch: they must make the same calls, and succeed.
  const calls = FLOWS.map((flow) => {
    const tally: CannedTally = { calls: new Map() };
    return { tally, run: flow.make(cannedFetch(tally)) };
  });
  for (const { run } of calls) await run();

  const runs = FLOWS.map((flow) => flow.make(cannedFetch()));
  for (const run of runs) for (let i = 0; i < settings.warmup; i++) await run();
  // Batch size: from the fastest of three small batches, so that a pause makes batches smaller, not larger.
  const perSample: number[] = [];
  for (const run of runs) {
    let best = Infinity;
    for (let i = 0; i < 3; i++) best = Math.min(best, (await timeBatch(run, Math.min(50, settings.warmup))).wallUs);
    perSample.push(Math.max(5, Math.round((settings.sampleMs * 1000) / best)));
  }

  const samples: Sample[][] = runs.map(() => []);
  for (let s = 0; s < settings.samples; s++) {
    // A rotating order: no flow always runs right after another's garbage.
    for (let k = 0; k < runs.length; k++) {
      const i = (s + k) % runs.length;
      samples[i]!.push(await timeBatch(runs[i]!, perSample[i]!));
    }
  }

  const flows: CompareFlow[] = FLOWS.map((flow, i) => ({
    id: flow.id,
    name: flow.name,
    cpuUs: roundSummary(summarize(samples[i]!.map((x) => x.cpuUs))),
    wallUs: roundSummary(summarize(samples[i]!.map((x) => x.wallUs))),
    perSample: perSample[i]!,
    calls: Object.fromEntries(calls[i]!.tally.calls),
  }));
  const median = (id: CompareFlow['id']) => flows.find((flow) => flow.id === id)!.cpuUs.median;
  const at = (id: CompareFlow['id']) => samples[FLOWS.findIndex((flow) => flow.id === id)]!;
  const own = (id: CompareFlow['id']) => summarize(at(id).map((sample, s) => sample.cpuUs - 3 * at('canned-fetch')[s]!.cpuUs)).median;
  const ratios = (id: CompareFlow['id']) => at('ours').map((sample, s) => sample.cpuUs / at(id)[s]!.cpuUs);
  const paired = (id: CompareFlow['id']) => roundSummary(summarize(ratios(id)));
  for (const flow of flows) progress(`  ${flow.name}: ${flow.cpuUs.median} µs CPU`);
  if (sink === -1) progress('(unreachable)');
  return {
    settings,
    versions: { oauth4webapi: await version('oauth4webapi'), 'openid-client': await version('openid-client') },
    flows,
    ratio: { oauth4webapi: paired('oauth4webapi'), openidClient: paired('openid-client') },
    ratioMedianCi95: { oauth4webapi: medianCi95(ratios('oauth4webapi')) },
    ratioOfMedians: { oauth4webapi: round(median('ours') / median('oauth4webapi')), openidClient: round(median('ours') / median('openid-client')) },
    httpRequestOverheadUs: round(summarize(at('http-request').map((sample, s) => sample.cpuUs - at('canned-fetch')[s]!.cpuUs)).median),
    ownUs: {
      ours: round(own('ours')),
      oauth4webapi: round(own('oauth4webapi')),
      openidClient: round(own('openid-client')),
      ratioToOauth4webapi: round(own('ours') / own('oauth4webapi')),
    },
  };
}

/**
 * A distribution-free 95 % confidence interval of the median: the values ranked n/2 − 0.98·√n and
 * 1 + n/2 + 0.98·√n (1-based; ranks 49 and 72 of 120), from the binomial's normal approximation.
 */
export function medianCi95(values: readonly number[]): [number, number] {
  const sorted = sortNumbers(values);
  const n = sorted.length;
  const half = 0.98 * Math.sqrt(n);
  const low = Math.max(1, Math.floor(n / 2 - half));
  const high = Math.min(n, Math.ceil(1 + n / 2 + half));
  return [round(sorted[low - 1]!), round(sorted[high - 1]!)];
}

async function version(name: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
}
