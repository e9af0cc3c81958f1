// Machine-to-machine with the built step modules and nothing else: plain `node`, no node_modules.
// The copy-paste test runs it from an empty folder holding only the files docs/machine.md lists
// (plus 3.1-discovery.js for the tenant's endpoints).
// Usage: node m2m.mjs <tenant-url> <client-id> <client-secret> [subject-to-impersonate]
import { discover } from './3.1-discovery.js';
import { qlikFetch } from './lifecycle.js';
import { machineSession } from './machine.js';

const [tenantUrl, clientId, clientSecret, subject] = process.argv.slice(2);
const metadata = await discover(tenantUrl);
// No token yet: the first call fetches one (client_credentials, or impersonation with a user lookup).
const session = machineSession(metadata, { clientId, clientSecret }, {
  scope: 'user_default',
  userLookup: subject ? { field: 'subject', value: subject } : undefined,
});
const [me, again] = await Promise.all([qlikFetch(session, '/api/v1/users/me'), qlikFetch(session, '/api/v1/users/me')]);
console.log(JSON.stringify({ name: me.name, sameUser: me.id === again.id }));
