import pino from 'pino';

// Structured logs (JSON lines on stdout) for export start, progress, finish and failure. Quiet in
// tests unless LOG_LEVEL says otherwise.
export const log = pino({
  name: 'askport',
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' || process.env.VITEST ? 'silent' : 'info'),
  base: undefined,
});
