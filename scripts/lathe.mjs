#!/usr/bin/env node
/**
 * The `lathe` command (package.json "bin"): runs the TypeScript sources of `src/cli/` through tsx, so
 * the CLI and the studio's data worker share one core. See `src/cli/main.ts` for the commands.
 */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
