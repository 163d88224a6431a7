#!/usr/bin/env node
// `npm run dev`: the registry server (restarting on change) and Vite with hot reload, together.
// Vite proxies /api to the server, so the studio talks to it as it does in production.
import { spawn } from 'node:child_process';

const serverPort = process.env.PORT ?? '8787';
const children = [
  spawn('npx', ['tsx', 'watch', 'sync-server/src/main.ts'], {
    stdio: 'inherit',
    env: { ...process.env, PORT: serverPort }
  }),
  spawn('npx', ['vite', 'dev'], { stdio: 'inherit', env: { ...process.env, LATHE_API_PORT: serverPort } })
];

function stop(code = 0) {
  for (const child of children) child.kill('SIGTERM');
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
for (const child of children) child.on('exit', (code) => stop(code ?? 0));
