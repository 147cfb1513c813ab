#!/usr/bin/env node
import { runCli } from './commands.js';

// The `inotrope-cds` command: rule authoring tools (check, test, evaluate, schema).
process.exitCode = await runCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
