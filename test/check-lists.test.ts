// The lists of checks each step reports to the transcript (DISCOVERY_CHECKS, CALLBACK_CHECKS,
// TOKEN_CHECKS, USER_CHECKS) are written by hand, next to the code that makes the checks. This test
// keeps them true: every code a step module throws is in its list, and every code in a list is one the
// module throws or one of the shared http.ts checks its answer goes through (parseJsonObject).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DISCOVERY_CHECKS } from '../src/1-discovery.ts';
import { CALLBACK_CHECKS, TOKEN_CHECKS } from '../src/3-token.ts';
import { USER_CHECKS } from '../src/4-api.ts';
import { CLIENT_CREDENTIALS_CHECKS, IMPERSONATION_CHECKS } from '../src/6-machine.ts';
import { CHECKS, type CheckCode } from '../src/errors.ts';

/** The check codes a source file throws: `new SomeError('CODE', …` and `new SomeError(\n 'CODE'`. */
function thrownIn(file: string): Set<string> {
  const source = readFileSync(file, 'utf8');
  const codes = [...source.matchAll(/new \w+Error\(\s*'([A-Z0-9_]+)'/g)].map((m) => m[1]!).filter((code) => code in CHECKS);
  // AuthorizationError carries its code itself (errors.ts): the tenant's error in the callback.
  if (/new AuthorizationError\(/.test(source)) codes.push('AUTHORIZATION_ERROR');
  return new Set(codes);
}

/** parseJsonObject's checks: every JSON answer of a step goes through them. */
const JSON_CHECKS = new Set<CheckCode>(['NOT_JSON', 'JSON_INVALID', 'JSON_NOT_OBJECT']);

for (const [file, lists, notInLists] of [
  // expectedIssuer() checks the configured URL and discover() both paths, before any document is processed.
  ['src/1-discovery.ts', [DISCOVERY_CHECKS], ['TENANT_URL_INVALID', 'TENANT_URL_NOT_HTTPS', 'DISCOVERY_FAILED']],
  ['src/3-token.ts', [CALLBACK_CHECKS, TOKEN_CHECKS], []],
  // apiErrorFrom() serves every REST call; /users/me reports the codes a user answer can fail with.
  ['src/4-api.ts', [USER_CHECKS], []],
  // The checks made before a machine grant is sent; the tenant's refusals are reported as they come.
  ['src/6-machine.ts', [CLIENT_CREDENTIALS_CHECKS, IMPERSONATION_CHECKS], []],
] as const) {
  test(`${file}: its check lists name exactly the checks it makes`, () => {
    const thrown = thrownIn(file);
    const listed = new Set<string>(lists.flatMap((list) => [...list]));
    const expected = [...thrown].filter((code) => !(notInLists as readonly string[]).includes(code)).sort();
    assert.deepEqual([...listed].filter((code) => !JSON_CHECKS.has(code as CheckCode)).sort(), expected);
    for (const code of listed) assert.ok(thrown.has(code) || JSON_CHECKS.has(code as CheckCode), `${code} is listed but never thrown in ${file}`);
  });
}

test('each list is in the order of the checks in the code (the transcript shows them in that order)', () => {
  const source = readFileSync('src/3-token.ts', 'utf8');
  const at = (code: string) => source.search(code === 'AUTHORIZATION_ERROR' ? /new AuthorizationError\(/ : new RegExp(`new \\w+Error\\(\\s*'${code}'`));
  const own = CALLBACK_CHECKS.filter((code) => at(code) !== -1);
  assert.deepEqual([...own].sort((a, b) => at(a) - at(b)), [...own]);
});
