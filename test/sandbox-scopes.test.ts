// Scopes: Qlik's syntax (letters, digits, _ . - :), the client's allow-list for an empty scope, and
// no scope string can crash the sandbox (issue 12 item 8: `constructor` was a 500).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SCOPES, SANDBOX_M2M_CLIENT_ID, SANDBOX_M2M_CLIENT_SECRET } from '../src/sandbox/index.ts';
import { assertErrorRedirect, assertTerse, authorizeUrl, get, pkcePair, post, refresh, signIn, withSandbox } from './helpers/sandbox.ts';

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'prototype'];

describe('scope syntax and allow-list', () => {
  it('accepts scope tokens with - and : (admin.apps:export, admin.ai-descriptions)', () =>
    withSandbox({}, async (sb) => {
      const tokens = await signIn(sb, { scope: 'user_default admin.apps:export admin.ai-descriptions' });
      assert.equal(tokens.scope, 'user_default admin.apps:export admin.ai-descriptions');
    }));

  it('refuses an absent or empty scope at /oauth/authorize (Qlik: required), with invalid_scope', () =>
    withSandbox({}, async (sb) => {
      for (const scope of [undefined, '', '   ']) {
        const params = assertErrorRedirect(await get(authorizeUrl(sb, pkcePair().challenge, { scope })), 'invalid_scope', 'SANDBOX-OAUTH-5', sb);
        assert.match(params.get('error_detail')!, /scope is missing/, JSON.stringify(scope));
      }
    }));

  it('grants the client\'s allow-list (without offline_access) for an absent or empty scope at the token endpoint', () =>
    withSandbox({ clients: [{ clientId: 'm2m', clientSecret: 's', redirectUris: [], grantTypes: ['client_credentials'] }] }, async (sb) => {
      const expected = DEFAULT_SCOPES.filter((s) => s !== 'offline_access').join(' ');
      for (const scope of [undefined, '', '   ']) {
        const res = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: 'm2m', client_secret: 's', ...(scope === undefined ? {} : { scope }) });
        assert.equal(((await res.json()) as { scope: string }).scope, expected, JSON.stringify(scope));
      }
    }));

  it('refuses a scope that is not on the client\'s allow-list', () =>
    withSandbox({ clients: [{ clientId: 'narrow', clientSecret: 's', redirectUris: ['http://localhost:3000/login/callback'], scopes: ['user_default'] }] }, async (sb) => {
      const res = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: 'narrow', scope: 'user_default admin_classic' }));
      const params = assertErrorRedirect(res, 'invalid_scope', 'SANDBOX-OAUTH-5', sb);
      assert.match(params.get('error_detail')!, /admin_classic. is not allowed for client .narrow.\. Allowed: user_default\./);
    }));
});

describe('no scope string crashes the sandbox', () => {
  it('object-prototype names are unknown scopes at /oauth/authorize (invalid_scope, not a 500)', () =>
    withSandbox({}, async (sb) => {
      for (const name of PROTOTYPE_NAMES) {
        const res = await get(authorizeUrl(sb, pkcePair().challenge, { scope: `user_default ${name}` }));
        assertErrorRedirect(res, 'invalid_scope', 'SANDBOX-OAUTH-5', sb);
      }
    }));

  it('… at the token endpoint (client_credentials, refresh): 400, not a 500', () =>
    withSandbox({}, async (sb) => {
      const tokens = await signIn(sb);
      for (const name of PROTOTYPE_NAMES) {
        const m2m = await post(`${sb.url}/oauth/token`, { grant_type: 'client_credentials', client_id: SANDBOX_M2M_CLIENT_ID, client_secret: SANDBOX_M2M_CLIENT_SECRET, scope: name });
        await assertTerse(m2m, 400, 'HTTP-400', 'Bad Request');
        await assertTerse(await refresh(sb, tokens.refresh_token!, { scope: name }), 400, 'HTTP-400', 'Bad Request');
      }
      assert.equal((await refresh(sb, tokens.refresh_token!)).status, 200);
    }));

  it('… and on the consent page, when a client is allowed such a name', () =>
    withSandbox({ clients: [{ clientId: 'odd', clientSecret: 's', redirectUris: ['http://localhost:3000/login/callback'], scopes: PROTOTYPE_NAMES }] }, async (sb) => {
      const res = await get(authorizeUrl(sb, pkcePair().challenge, { client_id: 'odd', scope: PROTOTYPE_NAMES.join(' ') }));
      const html = await res.text();
      assert.equal(res.status, 200, html);
      for (const name of PROTOTYPE_NAMES) assert.match(html, new RegExp(`<li><code>${name}</code></li>`));
    }));
});
