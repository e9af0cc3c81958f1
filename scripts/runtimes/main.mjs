// The entry for the runtimes that run a file: Node 20 (the built dist/index.js), Node 24, Bun and
// Deno (src/index.ts itself). Usage: <runtime> main.mjs <library entry> <config JSON>
// Prints the checks as one line of JSON; scripts/runtimes/run.ts reads it.
import process from 'node:process';
import { runChecks } from './flow.mjs';

const [libraryEntry, configJson] = process.argv.slice(2);
const lib = await import(libraryEntry);
const results = await runChecks(lib, JSON.parse(configJson));
process.stdout.write(`${JSON.stringify(results)}\n`);
