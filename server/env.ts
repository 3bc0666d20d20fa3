import path from 'node:path';
import { z } from 'zod';

// Every setting the server reads, validated once. Code reads getEnv(), never process.env.
const envSchema = z.object({
  ASKPORT_DATA_DIR: z.string().min(1).default('data'),
  // App database: SQLite file (default data/app.db) or a postgres:// URL.
  DATABASE_URL: z.string().min(1).optional(),
  // Data source users query: SQLite file (default data/demo.db) or a postgres:// URL.
  DATA_DATABASE_URL: z.string().min(1).optional(),
  QUERY_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  // Largest value one export may hold in memory (bytes); a larger one stops the export with a sentence.
  EXPORT_MAX_CELL_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  // PostgreSQL data source: "true" accepts a superuser or otherwise privileged role (refused at start otherwise).
  DATA_SOURCE_ALLOW_PRIVILEGED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  DEMO_EVENTS: z.coerce.number().int().nonnegative().default(20_000),
  EXPORT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  // Above this many rows an export becomes a job with progress; below, it streams straight down.
  EXPORT_JOB_THRESHOLD_ROWS: z.coerce.number().int().nonnegative().default(10_000),
  EXPORT_MAX_RUNNING_PER_USER: z.coerce.number().int().positive().default(2),
  EXPORT_FILE_TTL_MINUTES: z.coerce.number().positive().default(60),
  // On PostgreSQL: whether web processes also work the export queue ("false" when `npm run worker`
  // processes do all the work).
  EXPORT_WORK_IN_WEB: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  // Where finished export files are kept (default: <data dir>/exports).
  EXPORT_STORAGE_DIR: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  // Some OpenAI-compatible servers cannot stream; "false" asks for one JSON answer instead.
  OPENAI_STREAM: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  // The model path's bounds per message: model calls, SQL corrections, tables described in the prompt.
  OPENAI_MAX_CALLS: z.coerce.number().int().min(1).max(20).default(4),
  OPENAI_MAX_CORRECTIONS: z.coerce.number().int().min(0).max(10).default(2),
  OPENAI_PROMPT_TABLES: z.coerce.number().int().min(1).max(500).default(25),
  // Rows of results are never sent to the model unless the operator allows it (then the first 5, cut short).
  OPENAI_SHARE_ROWS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
});

export type Env = z.infer<typeof envSchema> & {
  dataDir: string;
  databaseUrl: string;
  dataDatabaseUrl: string;
  exportStorageDir: string;
};

let cached: Env | undefined;

export function getEnv(): Env {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid environment: ${details}`);
  }
  // Runtime data paths, not build inputs: turbopackIgnore keeps the build from tracing the project.
  const dataDir = path.resolve(/* turbopackIgnore: true */ parsed.data.ASKPORT_DATA_DIR);
  cached = {
    ...parsed.data,
    dataDir,
    databaseUrl: parsed.data.DATABASE_URL ?? `file:${path.join(dataDir, 'app.db')}`,
    dataDatabaseUrl: parsed.data.DATA_DATABASE_URL ?? `file:${path.join(dataDir, 'demo.db')}`,
    exportStorageDir: path.resolve(
      /* turbopackIgnore: true */ parsed.data.EXPORT_STORAGE_DIR ?? path.join(dataDir, 'exports'),
    ),
  };
  return cached;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** `file:relative/or/absolute.db` → absolute path. */
export function sqlitePathFromUrl(url: string): string {
  return path.resolve(/* turbopackIgnore: true */ url.replace(/^file:/, ''));
}
