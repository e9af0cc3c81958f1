// A callback refused before any work when it is absurd (src/3.3-token.ts validateCallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createState } from '../src/3.2-authorize.ts';
import { validateCallback } from '../src/3.3-token.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { TENANT } from './helpers/tenant.ts';

test('CALLBACK_TOO_LARGE: a callback with thousands of parameters is refused before any other check', () => {
  const state = createState();
  const many = Array.from({ length: 2600 }, (_, i) => `p${i}=x`).join('&');
  assert.throws(
    () => validateCallback(`http://localhost:3000/login/callback?code=c&state=${state}&${many}`, { expectedState: state, issuer: TENANT, issRequired: false }),
    (e: unknown) => e instanceof QlikOAuthError && e.code === 'CALLBACK_TOO_LARGE',
  );
  // A dozen unusual parameters are fine.
  const few = Array.from({ length: 10 }, (_, i) => `p${i}=x`).join('&');
  assert.deepEqual(validateCallback(`http://localhost:3000/login/callback?code=c&state=${state}&${few}`, { expectedState: state, issuer: TENANT, issRequired: false }), { code: 'c' });
});
