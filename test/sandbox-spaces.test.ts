// The spaces API: Qlik's list shape, and a write endpoint (create, read, delete) with Qlik's errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox } from '../src/sandbox/index.ts';
import { assertQlikError, get, post, postJson, signIn, withSandbox } from './helpers/sandbox.ts';

interface SpaceJson { id: string; name: string; tenantId: string; type: string; description?: string; links: { self: { href: string } } }
interface SpaceList { data: SpaceJson[]; links: { self: { href: string }; next?: { href: string }; prev?: { href: string } }; meta: { count: number } }

async function bearer(sb: Sandbox) {
  const { access_token } = await signIn(sb);
  return { authorization: `Bearer ${access_token}` };
}

describe('spaces API', () => {
  it('lists in Qlik\'s shape: data, absolute links.self/next, meta.count; a space has id, name, tenantId, type, links', () =>
    withSandbox({}, async (sb) => {
      const auth = await bearer(sb);
      const page = (await (await get(`${sb.url}/api/v1/spaces?limit=5`, auth)).json()) as SpaceList;
      assert.deepEqual(Object.keys(page).sort(), ['data', 'links', 'meta']);
      assert.deepEqual(page.meta, { count: 12 });
      assert.equal(page.links.self.href, `${sb.url}/api/v1/spaces?limit=5`);
      assert.ok(page.links.next!.href.startsWith(`${sb.url}/api/v1/spaces?limit=5&next=`));
      assert.equal(page.links.prev, undefined, 'no previous page before the first');
      // links.prev leads back: from the third page to the second, from the second to the first.
      const second = (await (await get(page.links.next!.href, auth)).json()) as SpaceList;
      const third = (await (await get(second.links.next!.href, auth)).json()) as SpaceList;
      assert.equal(third.links.prev!.href, second.links.self.href);
      assert.equal(second.links.prev!.href, page.links.self.href);
      assert.equal(third.links.next, undefined);
      const space = page.data[0]!;
      assert.match(space.id, /^[0-9a-f]{24}$/);
      assert.equal(space.tenantId, 'sandbox-tenant');
      assert.ok(['shared', 'managed', 'data'].includes(space.type));
      assert.deepEqual(space.links, { self: { href: `${sb.url}/api/v1/spaces/${space.id}` }, assignments: { href: `${sb.url}/api/v1/spaces/${space.id}/assignments` } });
      const one = await get(space.links.self.href, auth);
      assert.deepEqual(await one.json(), space);
    }));

  it('creates (201), reads, lists and deletes (204) a space', () =>
    withSandbox({}, async (sb) => {
      const auth = await bearer(sb);
      const created = await postJson(`${sb.url}/api/v1/spaces`, { name: 'Team Ada', type: 'managed', description: 'ours' }, auth);
      assert.equal(created.status, 201);
      const space = (await created.json()) as SpaceJson;
      assert.equal(created.headers.get('location'), space.links.self.href);
      assert.deepEqual([space.name, space.type, space.description, space.tenantId], ['Team Ada', 'managed', 'ours', 'sandbox-tenant']);
      assert.equal((await get(space.links.self.href, auth)).status, 200);
      const all = (await (await get(`${sb.url}/api/v1/spaces?limit=100`, auth)).json()) as SpaceList;
      assert.equal(all.meta.count, 13);
      assert.ok(all.data.some((s) => s.id === space.id));

      const deleted = await fetch(space.links.self.href, { method: 'DELETE', headers: auth });
      assert.equal(deleted.status, 204);
      assert.equal(await deleted.text(), '');
      await assertQlikError(await get(space.links.self.href, auth), 404, 'SPACES-SANDBOX-404');
      await assertQlikError(await fetch(space.links.self.href, { method: 'DELETE', headers: auth }), 404, 'SPACES-SANDBOX-404');
      const defaulted = (await (await postJson(`${sb.url}/api/v1/spaces`, { name: 'Plain' }, auth)).json()) as SpaceJson;
      assert.equal(defaulted.type, 'shared');
    }));

  it('refuses a missing name (400), a duplicate name (409), bad JSON, and callers without a token (401)', () =>
    withSandbox({}, async (sb) => {
      const auth = await bearer(sb);
      for (const body of [{}, { name: '' }, { name: 7 }, { name: 'x', type: 'personal' }, { name: 'x', description: 1 }]) {
        const res = await postJson(`${sb.url}/api/v1/spaces`, body, auth);
        const error = await assertQlikError(res, 400, 'SPACES-SANDBOX-400');
        assert.ok(error.errors[0]!.detail, JSON.stringify(body));
      }
      await assertQlikError(await postJson(`${sb.url}/api/v1/spaces`, { name: 'finance' }, auth), 409, 'SPACES-SANDBOX-409');
      await assertQlikError(await post(`${sb.url}/api/v1/spaces`, '{', { ...auth, 'content-type': 'application/json' }), 400, 'SPACES-SANDBOX-400');
      await assertQlikError(await post(`${sb.url}/api/v1/spaces`, 'name=x', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }), 400, 'SPACES-SANDBOX-400');
      await assertQlikError(await postJson(`${sb.url}/api/v1/spaces`, { name: 'x' }), 401, 'HTTP-401');
      const put = await fetch(`${sb.url}/api/v1/spaces/abc`, { method: 'PUT', headers: auth });
      assert.equal(put.headers.get('allow'), 'GET, DELETE');
      await assertQlikError(put, 405, 'HTTP-405');
    }));
});
