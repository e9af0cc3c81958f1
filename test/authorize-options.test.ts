// Building the authorization URL (src/3.2-authorize.ts): settings that cannot work are the app's
// configuration errors, not the user's; Qlik's optional prompt, login_hint and max_age.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAuthorizationUrl, codeChallengeS256, createCodeVerifier, createState } from '../src/3.2-authorize.ts';
import { ConfigurationError } from '../src/errors.ts';
import { CLIENT, METADATA } from './helpers/tenant.ts';

test('configuration mistakes in 3.2 are ConfigurationErrors (the app is misconfigured, not the user)', () => {
  const params = { scope: 'user_default', state: createState(), codeChallenge: codeChallengeS256(createCodeVerifier()) };
  for (const [change, code] of [
    [{ state: 'short' }, 'STATE_TOO_SHORT'],
    [{ scope: 'a"b' }, 'SCOPE_INVALID'],
    [{ prompt: 'select_account' }, 'PROMPT_INVALID'],
    [{ scope: '' }, 'SCOPE_INVALID'],
    [{ maxAge: -1 }, 'PROMPT_INVALID'],
    [{ maxAge: 1.5 }, 'PROMPT_INVALID'],
  ] as const) {
    assert.throws(() => buildAuthorizationUrl(METADATA, CLIENT, { ...params, ...(change as object) }), (e: unknown) => e instanceof ConfigurationError && e.code === code, JSON.stringify(change));
  }
  assert.throws(() => createCodeVerifier('too-short'), (e: unknown) => e instanceof ConfigurationError && e.code === 'VERIFIER_INVALID');
});

test('prompt, login_hint and max_age go into the authorization URL when given, and only then', () => {
  const params = { scope: 'user_default', state: createState(), codeChallenge: codeChallengeS256(createCodeVerifier()) };
  const plain = buildAuthorizationUrl(METADATA, CLIENT, params);
  for (const name of ['prompt', 'login_hint', 'max_age']) assert.equal(plain.searchParams.has(name), false, name);
  const url = buildAuthorizationUrl(METADATA, CLIENT, { ...params, prompt: 'login', loginHint: 'ana@example.com', maxAge: 300 });
  assert.equal(url.searchParams.get('prompt'), 'login');
  assert.equal(url.searchParams.get('login_hint'), 'ana@example.com');
  assert.equal(url.searchParams.get('max_age'), '300');
  assert.equal(buildAuthorizationUrl(METADATA, CLIENT, { ...params, prompt: 'none' }).searchParams.get('prompt'), 'none');
});
