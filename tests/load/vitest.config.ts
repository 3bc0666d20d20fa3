import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// `npm run test:load`: the slow scale-out, fault and load scripts against real processes on the
// PostgreSQL server at 127.0.0.1:5432. Not part of `npm test`: they take minutes, restart
// PostgreSQL and mount a tiny tmpfs (root only).
export default defineConfig({
  root,
  resolve: { alias: { '@': root } },
  test: {
    name: 'load',
    include: ['tests/load/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './tests/summary-reporter.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    globalSetup: ['tests/load/global-setup.ts'],
  },
});
