#!/usr/bin/env node
import { processIo } from './io.js';

// Ink decides once, when it is loaded, whether it runs "in CI" (CI=… set) and then draws only
// the last frame. On a real terminal the operations view must be live, so hide those variables
// while Ink loads and put them back at once (agents still see them).
const ciVariables = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
const saved = ciVariables.map((name) => [name, process.env[name]] as const);
if (process.stdout.isTTY) for (const name of ciVariables) delete process.env[name];
// React also picks its build when it is loaded, by NODE_ENV: unset means the development build,
// which costs the TUI a large share of every frame. Load the production build unless NODE_ENV
// is set, and take the variable away again so the app-servers and agents do not inherit it.
const nodeEnvUnset = process.env.NODE_ENV === undefined;
if (nodeEnvUnset) process.env.NODE_ENV = 'production';
const { runCli } = await import('./runCli.js');
if (nodeEnvUnset) delete process.env.NODE_ENV;
for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;

process.exitCode = await runCli(process.argv.slice(2), processIo);
