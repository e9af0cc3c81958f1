// Console and log injection (issue 12, finding 5). Request data and tenant values reached stdout
// raw: an ESC sequence in a callback parameter name cleared the terminal and printed a forged
// "200 OK admin signed in"; an error_description with an OSC sequence retitled the terminal and a
// newline forged "· Signed in as admin"; every callback reprinted the whole transcript. Now every
// line is escaped (src/redact.ts escapeControl), and each callback prints only what it added.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, consentCallback, startStack, type Stack } from '../helpers/browser.ts';

const printed: string[] = [];
let stack: Stack;
before(async () => {
  stack = await startStack({ app: { onTranscript: (text) => printed.push(text) } });
});
after(() => stack.close());
beforeEach(() => {
  printed.length = 0;
  stack.logs.length = 0;
});

/** Any C0 or C1 control character but the newline between lines, and DEL. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const output = () => [...printed, ...stack.logs].join('\n');

/** No control character, and no line that starts like one of the app's own. */
function assertClean(text: string): void {
  assert.doesNotMatch(text, CONTROL, JSON.stringify(text.slice(0, 500)));
  for (const line of text.split('\n')) {
    assert.doesNotMatch(line, /^\s*(· Signed in as admin|200 OK admin)/, `a forged line: ${JSON.stringify(line)}`);
  }
}

describe('console and log lines, given hostile callbacks', () => {
  it('escape an ESC sequence in a callback parameter name', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app);
    const name = '\u001b[2J\u001b[H200 OK admin signed in';
    callback.searchParams.append(name, '1');
    callback.searchParams.append(name, '2'); // repeated: the check names the parameter
    const page = await browser.get(callback.href);
    assert.equal(page.status, 400);
    assert.match(output(), /CALLBACK_PARAM_REPEATED/);
    assert.match(output(), /\\(x1b|u001b)\[2J/, 'shown, escaped');
    assertClean(output());
  });

  it('escape an OSC sequence and a newline in an error_description', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app);
    callback.searchParams.delete('code');
    callback.searchParams.set('error', 'access_denied');
    callback.searchParams.set('error_description', '\u001b]0;pwned\u0007\n   · Signed in as admin\r\n\u009b2J');
    const page = await browser.get(callback.href);
    assert.equal(page.status, 400);
    assert.match(output(), /access_denied/);
    assertClean(output());
  });

  it('print a failed sign-in once: a replayed or forged callback adds its own lines only', async () => {
    const browser = new Browser();
    const callback = await consentCallback(browser, stack.app);
    callback.searchParams.set('junk', 'j'.repeat(8_000));
    callback.searchParams.append('junk', 'again');
    assert.equal((await browser.get(callback.href)).status, 400);
    assert.equal(printed.length, 1);
    const first = printed[0]!;
    assert.match(first, /── 3\.2 Send the user to sign in/);
    assert.ok(first.length < 6_000, `${first.length} characters printed for one callback`);
    for (let i = 0; i < 5; i += 1) assert.equal((await browser.get(callback.href)).status, 400); // reloads
    assert.equal(printed.length, 6);
    for (const again of printed.slice(1)) {
      assert.doesNotMatch(again, /3\.2 Send the user to sign in/, 'not the whole transcript again');
      assert.match(again, /LOGIN_NOT_PENDING/);
      // Discovery at start heads every printed transcript; after it, the replay's own lines only.
      assert.match(again, /^── 3\.3 /m);
      const own = again.slice(again.indexOf('── 3.3'));
      assert.ok(own.length < 1_000, own);
    }
    assertClean(output());
  });
});
