import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    dataDir: string;
  }
}

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForServer(url: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the app exited with code ${server.exitCode}`);
    try {
      const response = await fetch(url, { redirect: 'manual' });
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the app did not answer at ${url} within ${timeoutMs} ms`);
}

/** Builds the app (unless E2E_SKIP_BUILD=1), starts it on a free port with fresh data, stops it after. */
export default async function setup(project: TestProject) {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' } as NodeJS.ProcessEnv;
  if (process.env.E2E_SKIP_BUILD !== '1') {
    const build = spawnSync(bin('next'), ['build'], { cwd: root, env, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('next build failed');
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'askport-e2e-'));
  const port = await freePort();
  // The embedded default, on fresh files: whatever database the shell points at is not used.
  const { DATABASE_URL: _appDatabase, DATA_DATABASE_URL: _dataSource, ...inherited } = env;
  const appEnv = { ...inherited, ASKPORT_DATA_DIR: dataDir };
  const prepared = spawnSync(bin('tsx'), ['server/cli/setup.ts'], { cwd: root, env: appEnv, stdio: 'inherit' });
  if (prepared.status !== 0) throw new Error('setup failed');
  const server = spawn(bin('next'), ['start', '-p', String(port), '-H', '127.0.0.1'], { cwd: root, env: appEnv, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForServer(`${baseUrl}/sign-in`, server, 60_000);
  project.provide('baseUrl', baseUrl);
  project.provide('dataDir', dataDir);
  return () => {
    if (server.pid) process.kill(-server.pid, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
}
