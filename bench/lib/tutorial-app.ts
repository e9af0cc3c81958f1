// The yardstick for the round-trip bench: a minimal app written the way Qlik's tutorial writes it,
// with openid-client (v6 API), on node:http. Discovery once at start; GET /login sends the browser to
// the tenant with PKCE and a state; the callback exchanges the code and asks /users/me; the landing
// page renders from the session. No more checks, pages or limits than that: it is a yardstick for
// the number of round trips, not an app to copy.
//
// openid-client is a devDependency of the bench, never of src/.

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as openid from 'openid-client';

export interface TutorialApp {
  url: string;
  redirectUri: string;
  close(): Promise<void>;
}

interface TutorialSession {
  pending?: { state: string; codeVerifier: string };
  user?: { name: string };
}

const COOKIE = 'tutorial_sid';

export async function startTutorialApp(tenantUrl: string, clientId: string, clientSecret: string, scope: string): Promise<TutorialApp> {
  // Tutorial 3.1: discovery, once. The sandbox is plain http on loopback: openid-client wants that said.
  const config = await openid.discovery(new URL(tenantUrl), clientId, undefined, openid.ClientSecretPost(clientSecret), {
    execute: [openid.allowInsecureRequests],
  });
  const usersMe = new URL('/api/v1/users/me', tenantUrl);
  const sessions = new Map<string, TutorialSession>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', app.url);
      const sid = /(?:^|;\s*)tutorial_sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const session = sid === undefined ? undefined : sessions.get(sid);
      try {
        if (url.pathname === '/login') {
          // Tutorial 3.2: PKCE verifier and challenge, state, the authorization URL.
          const id = randomBytes(16).toString('base64url');
          const codeVerifier = openid.randomPKCECodeVerifier();
          const state = openid.randomState();
          sessions.set(id, { pending: { state, codeVerifier } });
          const target = openid.buildAuthorizationUrl(config, {
            redirect_uri: app.redirectUri,
            scope,
            code_challenge: await openid.calculatePKCECodeChallenge(codeVerifier),
            code_challenge_method: 'S256',
            state,
          });
          res.writeHead(302, { location: target.href, 'set-cookie': `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax` }).end();
        } else if (url.pathname === '/login/callback' && session?.pending) {
          // Tutorial 3.3: the callback's checks and the code exchange; 3.4: who signed in.
          const tokens = await openid.authorizationCodeGrant(config, url, {
            pkceCodeVerifier: session.pending.codeVerifier,
            expectedState: session.pending.state,
          });
          // Qlik documents users/me as a 301 to the user resource; openid-client never follows a
          // redirect, so a tutorial app against the documented tenant has to follow it itself.
          let me = await openid.fetchProtectedResource(config, tokens.access_token, usersMe, 'GET');
          if (me.status === 301) me = await openid.fetchProtectedResource(config, tokens.access_token, new URL(me.headers.get('location')!, usersMe), 'GET');
          if (!me.ok) throw new Error(`users/me answered ${me.status}`);
          session.user = (await me.json()) as { name: string };
          session.pending = undefined;
          res.writeHead(302, { location: '/' }).end();
        } else if (url.pathname === '/') {
          // The landing page, from the session alone.
          const body = session?.user ? `<p>Signed in as ${escapeHtml(session.user.name)}</p>` : '<p>Not signed in. <a href="/login">Log in</a></p>';
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
        } else {
          res.writeHead(404).end();
        }
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : 'failed');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const app: TutorialApp = {
    url: `http://127.0.0.1:${port}`,
    redirectUri: `http://127.0.0.1:${port}/login/callback`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return app;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
