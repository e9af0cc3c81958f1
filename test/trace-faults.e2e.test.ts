// Try breaking it, as docs/exercises.md asks: every named sandbox fault (SANDBOX_FAULT=<name>),
// through the app, and /trace names the check the fault's list says should stop it — on the page
// and in the JSON, in the step the fault belongs to. No network but 127.0.0.1.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, startStack } from './helpers/browser.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_FAULTS, startSandbox } from '../src/sandbox/index.ts';
import { createApp } from '../src/app/index.ts';
import { QlikOAuthError } from '../src/errors.ts';
import { redactValue } from '../src/redact.ts';

interface CheckJson {
  type: string;
  section: string;
  code?: string;
  outcome?: string;
}

describe('every sandbox fault, read on /trace', () => {
  for (const fault of SANDBOX_FAULTS) {
    it(`${fault.name} → ${fault.expectedCheck} (${fault.step})`, async () => {
      if (fault.step === '3.1') {
        // A fault in discovery stops the app at start: there is no sign-in to read.
        const sandbox = await startSandbox({ faults: [fault.name] });
        try {
          await assert.rejects(
            createApp({ tenantUrl: sandbox.url, clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, host: '127.0.0.1', port: 0, sandbox: true }),
            (error: unknown) => error instanceof QlikOAuthError && error.code === fault.expectedCheck,
          );
        } finally {
          await sandbox.close();
        }
        return;
      }
      // token-slow: the sandbox waits longer than the app does, both kept short here.
      const slow = fault.name === 'token-slow';
      const stack = await startStack({
        sandbox: { faults: [fault.name], ...(slow ? { slowTokenMs: 5_000 } : {}) },
        app: { sandbox: true, sandboxFaults: [fault], ...(slow ? { timeoutMs: 1_000 } : {}) },
      });
      try {
        const browser = new Browser();
        const hops = await browser.follow(`${stack.app.url}/login`);
        const answer = await browser.consent(hops.at(-1)!, { decision: 'allow' });
        const failed = (await browser.follow(answer.location!)).at(-1)!;
        assert.ok(failed.status >= 400, `the sign-in failed: ${failed.status}`);
        // The error page names the fault, and does not send the learner after settings they never set.
        assert.match(failed.body, new RegExp(`This is the fault you switched on: <code>SANDBOX_FAULT=${fault.name}</code>`));
        assert.doesNotMatch(failed.body, /QLIK_/);
        const page = await browser.get(`${stack.app.url}/trace`);
        assert.match(page.body, new RegExp(`<p class="flash warning">The sign-in stopped at <code>${fault.expectedCheck}</code> [^\n]*This is the fault you switched on: <code>SANDBOX_FAULT=${fault.name}</code>`));
        assert.match(page.body, new RegExp(`<li class="failed"><span class="mark">✗</span> [^<]+ <a class="code" href="[^"]+">${fault.expectedCheck}</a>`));
        assert.match(page.body, /Sign in first/, 'a failed sign-in leaves nothing to attack');
        const { events } = JSON.parse((await browser.get(`${stack.app.url}/trace?format=json`)).body) as { events: CheckJson[] };
        const check = events.find((e) => e.type === 'check' && e.outcome === 'failed');
        assert.deepEqual({ code: check?.code, section: check?.section }, { code: fault.expectedCheck, section: fault.step });
        if (fault.name === 'state-tampered') {
          // docs/exercises.md: the two states' marks differ — the one the browser was sent with (in
          // the authorization request, read here from the redirect) and the one the callback brought.
          const sent = new URL(hops[0]!.location!).searchParams.get('state')!;
          const line = /Expected state (…\(43 chars #[0-9a-f]{4}\)) \(this browser&#39;s sign-in under way\); the callback brought state (…\(\d+ chars #[0-9a-f]{4}\))\./.exec(page.body);
          assert.ok(line, 'both marks in the STATE_MISMATCH line');
          assert.equal(line[1], redactValue(sent, false), 'the expected mark is the state the browser was sent with');
          assert.equal(line[2], redactValue(`${sent}-tampered`, false), 'the other is the state the callback brought');
        }
      } finally {
        await stack.close();
      }
    });
  }
});
