import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '@/server/seed/seed';
import { tempDir } from '../helpers/databases';

const temp = tempDir();
afterAll(() => temp.remove());

async function seededFile(name: string, events: number): Promise<string> {
  const file = path.join(temp.dir, name);
  await seedDemoData(`file:${file}`, { events });
  return file;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('demo data', () => {
  it('gives the same bytes for the same event count, and different ones for another', async () => {
    const first = await seededFile('a.db', 3_000);
    const second = await seededFile('b.db', 3_000);
    const other = await seededFile('c.db', 3_001);
    expect(sha256(first)).toBe(sha256(second));
    expect(sha256(other)).not.toBe(sha256(first));
  });

  it('has the five tables with the requested number of events', async () => {
    const db = new Database(await seededFile('d.db', 1_234), { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['customers', 'events', 'order_items', 'orders', 'products']);
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1_234);
    expect(db.prepare('SELECT count(*) FROM orders').pluck().get()).toBeGreaterThan(0);
    db.close();
  });

  it('carries the text that breaks naive exporters', async () => {
    const db = new Database(await seededFile('e.db', 5_000), { readonly: true });
    const has = (where: string) => db.prepare(`SELECT count(*) FROM events WHERE ${where}`).pluck().get() as number;
    expect(has("description LIKE '%,%'")).toBeGreaterThan(0);
    expect(has(`description LIKE '%"%'`)).toBeGreaterThan(0);
    expect(has("description LIKE '%' || char(10) || '%'")).toBeGreaterThan(0);
    expect(has("description LIKE '=%'")).toBeGreaterThan(0);
    expect(has("description LIKE '%東京%'")).toBeGreaterThan(0);
    expect(has('amount IS NOT NULL')).toBeGreaterThan(0);
    expect(has("occurred_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'")).toBe(
      5_000,
    );
    db.close();
  });
});
