import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { standInModelAnswer, startFakeOpenAI } from '../helpers/fake-openai';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The app on the embedded default with no OpenAI key: offline mode. */
    offlineApp: { baseUrl: string; dataDir: string };
    /** The same app with a local Chat Completions server standing in for OpenAI. */
    modelApp: { baseUrl: string; dataDir: string };
  }
}

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
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

/** Starts the built app on a free port with fresh data on the embedded default. */
async function startApp(baseEnv: NodeJS.ProcessEnv, extraEnv: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'askport-e2e-'));
  // Whatever database or key the shell points at is not used.
  const {
    DATABASE_URL: _app,
    DATA_DATABASE_URL: _data,
    OPENAI_API_KEY: _key,
    OPENAI_BASE_URL: _url,
    ...inherited
  } = baseEnv;
  const env = { ...inherited, ASKPORT_DATA_DIR: dataDir, ...extraEnv };
  const prepared = spawnSync(bin('tsx'), ['server/cli/setup.ts'], { cwd: root, env, stdio: 'inherit' });
  if (prepared.status !== 0) throw new Error('setup failed');
  const port = await freePort();
  const server = spawn(bin('next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForServer(`${baseUrl}/sign-in`, server, 60_000);
  return {
    app: { baseUrl, dataDir },
    stop: () => {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Builds the app (unless E2E_SKIP_BUILD=1), starts it offline and with a stand-in model, stops both after. */
export default async function setup(project: TestProject) {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' } as NodeJS.ProcessEnv;
  if (process.env.E2E_SKIP_BUILD !== '1') {
    const build = spawnSync(bin('next'), ['build'], { cwd: root, env, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('next build failed');
  }
  const model = await startFakeOpenAI(standInModelAnswer);
  const offline = await startApp(env, {});
  const withModel = await startApp(env, {
    OPENAI_API_KEY: 'e2e-key',
    OPENAI_BASE_URL: model.baseURL,
    OPENAI_MODEL: 'stand-in',
  });
  project.provide('offlineApp', offline.app);
  project.provide('modelApp', withModel.app);
  return async () => {
    offline.stop();
    withModel.stop();
    await model.close();
  };
}
