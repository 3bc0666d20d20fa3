import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from '@/server/query/data-source';
import { createPostgresDataSource } from '@/server/query/postgres-source';
import { seedDemoData } from '@/server/seed/seed';
import { createPostgresDatabase, readOnlyRoleUrl, tempDir } from '../helpers/databases';

// The second wall behind the guard: a PostgreSQL data source role that can do more than read is
// refused before the first query, with the reason, unless the operator says DATA_SOURCE_ALLOW_PRIVILEGED.
describe('the PostgreSQL data source role is checked at start', () => {
  let database: { url: string; drop: () => Promise<void> };
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const roles = { signaller: `askport_signaller_${suffix}`, writer: `askport_writer_${suffix}` };
  const opened: DataSource[] = [];
  const open = (url: string, allowPrivileged = false) => {
    const source = createPostgresDataSource(url, 10_000, { allowPrivileged });
    opened.push(source);
    return source;
  };
  const as = (role: string) => {
    const url = new URL(database.url);
    url.username = role;
    return url.toString();
  };

  beforeAll(async () => {
    database = await createPostgresDatabase();
    await seedDemoData(database.url, { events: 50 });
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const name = new URL(database.url).pathname.slice(1);
    for (const role of Object.values(roles)) {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`GRANT CONNECT ON DATABASE ${name} TO ${role}`);
      await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    }
    await admin.query(`GRANT pg_signal_backend TO ${roles.signaller}`);
    await admin.query(`GRANT INSERT ON orders TO ${roles.writer}`);
    await admin.end();
  });
  afterAll(async () => {
    for (const source of opened) await source.close();
    await database?.drop();
    const admin = new pg.Client({ connectionString: database.url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    for (const role of Object.values(roles)) await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('refuses a superuser, naming the setting that would accept it', async () => {
    await expect(open(database.url).preview('SELECT 1', 1)).rejects.toThrow(
      /^The data source role "postgres" is a superuser; .*Askport reads the data source through a read-only role .*set DATA_SOURCE_ALLOW_PRIVILEGED=true\.$/,
    );
  });

  it("refuses a member of pg_signal_backend (it could end other people's exports)", async () => {
    await expect(open(as(roles.signaller)).verify()).rejects.toThrow(
      new RegExp(`role "${roles.signaller}" is a member of pg_signal_backend`),
    );
  });

  it('refuses a role that may write to a table', async () => {
    await expect(open(as(roles.writer)).listTables()).rejects.toThrow(/can write to tables \(public\.orders\)/);
  });

  it('accepts the read-only role of the README, and a privileged one when the operator says so', async () => {
    await expect(open(await readOnlyRoleUrl(database.url)).verify()).resolves.toBeUndefined();
    const preview = await open(database.url, true).preview('SELECT count(*) AS n FROM orders', 1);
    expect(preview.rows).toHaveLength(1);
  });

  it('stops `npm start` (its setup step) with the reason when the role is privileged', () => {
    const temp = tempDir();
    try {
      const tsx = path.join(process.cwd(), 'node_modules', '.bin', 'tsx');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ASKPORT_DATA_DIR: temp.dir,
        DATA_DATABASE_URL: database.url,
        VITEST: '',
      };
      delete env.DATABASE_URL;
      delete env.DATA_SOURCE_ALLOW_PRIVILEGED;
      const result = spawnSync(tsx, ['server/cli/setup.ts'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/The data source role "postgres" is a superuser/);
    } finally {
      temp.remove();
    }
  });
});
