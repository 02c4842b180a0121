#!/usr/bin/env node
// The certsignal command: argv → command function → exit code. The only place that exits.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
