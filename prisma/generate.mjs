// Generates one Prisma client per provider from the single prisma/schema.prisma: a Prisma client is
// bound to its provider, and the app picks SQLite or PostgreSQL at run time from DATABASE_URL.
// Prisma 7's CLI looks for a native schema engine it cannot download offline; `generate` never runs
// it, so any existing file satisfies the check.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const prismaDir = dirname(fileURLToPath(import.meta.url));
const schema = readFileSync(join(prismaDir, 'schema.prisma'), 'utf8');
const postgresSchema = schema
  .replace('provider = "sqlite"', 'provider = "postgresql"')
  .replace('../server/db/generated/sqlite', '../../server/db/generated/postgresql');
if (postgresSchema === schema) throw new Error('prisma/schema.prisma: provider or output line not found');

// Written beside a path that resolves the relative output the same way for both schemas.
const derivedDir = join(prismaDir, '..', 'data', 'prisma');
mkdirSync(derivedDir, { recursive: true });
const postgresSchemaPath = join(derivedDir, 'schema.postgresql.prisma');
writeFileSync(postgresSchemaPath, postgresSchema);

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? prismaCli,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
for (const schemaPath of [join(prismaDir, 'schema.prisma'), postgresSchemaPath]) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', schemaPath], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}
