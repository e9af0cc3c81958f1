// When a token expires: expires_at read against the tenant's clock (its Date header), and the refresh
// margin that fits every lifetime (src/3.3-token.ts processTokenResponse, src/lifecycle.ts isExpired).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processTokenResponse } from '../src/3.3-token.ts';
import { isExpired, refreshMarginMs } from '../src/lifecycle.ts';
import { result } from './helpers/tenant.ts';

const tokenBody = (extra: Record<string, unknown>) => ({ access_token: 'at-1234567890', token_type: 'bearer', ...extra });

test('expires_at is read against the tenant\'s clock (Date header): a local clock 10 minutes fast or slow changes nothing', () => {
  const tenantNow = Date.parse('2026-11-30T12:00:00Z');
  const date = new Date(tenantNow).toUTCString();
  const body = tokenBody({ expires_at: new Date(tenantNow + 6 * 3600_000).toISOString() });
  for (const skew of [-10 * 60_000, 0, 10 * 60_000]) {
    const localNow = tenantNow + skew;
    const tokens = processTokenResponse(result(200, body, { date }), localNow);
    assert.equal(tokens.lifetimeMs, 6 * 3600_000, `skew ${skew}`);
    assert.equal(tokens.expiresAt, localNow + 6 * 3600_000, 'expiry on OUR clock, 6 h from receipt');
  }
});

test('expires_at already past by the tenant\'s clock is EXPIRY_INVALID even when our clock is 10 minutes slow', () => {
  const tenantNow = Date.parse('2026-11-30T12:00:00Z');
  const body = tokenBody({ expires_at: new Date(tenantNow - 60_000).toISOString() });
  assert.throws(() => processTokenResponse(result(200, body, { date: new Date(tenantNow).toUTCString() }), tenantNow - 10 * 60_000), { code: 'EXPIRY_INVALID' });
});

test('without a Date header, expires_at is read against our clock', () => {
  const now = Date.now();
  const tokens = processTokenResponse(result(200, tokenBody({ expires_at: new Date(now + 90_000).toISOString() })), now);
  assert.equal(tokens.lifetimeMs, 90_000);
});

test('refresh margin: 60 s for a 6 h token, half the lifetime for short ones; a fresh token is never "expired"', () => {
  const issue = (seconds: number, at = 1_000_000) => processTokenResponse(result(200, tokenBody({ expires_in: seconds })), at);
  const sixHours = issue(21600);
  assert.equal(refreshMarginMs(sixHours), 60_000);
  assert.equal(isExpired(sixHours, 1_000_000 + 3 * 3600_000), false, 'not refreshed for hours');
  assert.equal(isExpired(sixHours, 1_000_000 + 21600_000 - 59_000), true);
  const ninety = issue(90);
  assert.equal(refreshMarginMs(ninety), 45_000);
  assert.equal(isExpired(ninety, 1_000_000 + 1), false, 'just issued');
  assert.equal(isExpired(ninety, 1_000_000 + 44_000), false);
  assert.equal(isExpired(ninety, 1_000_000 + 45_000), true);
  const three = issue(3);
  assert.equal(refreshMarginMs(three), 1500);
  assert.equal(isExpired(three, 1_000_000), false, 'a 3 s token is not refreshed the moment it arrives');
  assert.equal(isExpired(three, 1_000_000 + 1499), false);
  assert.equal(isExpired(three, 1_000_000 + 1500), true, 'in its last half');
});
