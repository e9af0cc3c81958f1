// Every check of the project in one list, merged from the catalogue each step declares: the
// transcript, the docs' check tables and the tests read it. A step copied on its own does not need it.

import { defineChecks } from './errors.ts';
import { HTTP_CHECKS } from './http.ts';
import { DISCOVERY_CHECKS } from './3.1-discovery.ts';
import { AUTHORIZE_CHECKS } from './3.2-authorize.ts';
import { CALLBACK_CHECKS, TOKEN_CHECKS } from './3.3-token.ts';
import { API_CHECKS } from './3.4-api.ts';
import { LIFECYCLE_CHECKS } from './lifecycle.ts';
import { MACHINE_CHECKS } from './machine.ts';
import { NATIVE_CHECKS } from './native-login.ts';

// The web app's own check: its sealed sign-in cookie makes a state single-use (RFC 6749 §10.5 makes
// codes single-use; a used or expired state is refused the same way).
const APP_CHECKS = defineChecks('3.3', {
  LOGIN_NOT_PENDING: { rule: 'RFC 9700 §2.1, RFC 9700 §4.7.1', title: 'the callback answers a sign-in that is still pending (state is single-use and expires)', hint: 'Start the sign-in again from the app.' },
});

export const CHECKS = {
  ...HTTP_CHECKS,
  ...DISCOVERY_CHECKS,
  ...AUTHORIZE_CHECKS,
  ...CALLBACK_CHECKS,
  ...TOKEN_CHECKS,
  ...API_CHECKS,
  ...LIFECYCLE_CHECKS,
  ...NATIVE_CHECKS,
  ...MACHINE_CHECKS,
  ...APP_CHECKS,
};

export type CheckCode = keyof typeof CHECKS;
