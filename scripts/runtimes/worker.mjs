// The entry for Cloudflare workerd: a Worker (ES module syntax) that runs the checks when asked.
// esbuild bundles it with src/index.ts, the way a copier ships a step to the edge; the node:
// built-ins stay imports, which workerd's nodejs_compat flag provides.
// POST the config JSON to it; it answers the checks as JSON.
import * as lib from '../../src/index.ts';
import { runChecks } from './flow.mjs';

export default {
  async fetch(request) {
    const results = await runChecks(lib, await request.json());
    return Response.json(results);
  },
};
