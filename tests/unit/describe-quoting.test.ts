import { describe, expect, it } from 'vitest';
import type { SchemaCatalog } from '@/server/intent/catalog';
import { describeData } from '@/server/intent/describe';

// Values and names come from the data and the schema: they reach SQL only quoted, never pasted.
const catalog: SchemaCatalog = {
  dialect: 'sqlite',
  tables: [
    {
      name: 'shop "items"',
      columns: [
        { name: 'id', role: 'id', values: null },
        { name: 'aisle', role: 'text', values: ["Kids' Toys", "x'); DROP TABLE t; --"] },
      ],
    },
  ],
};

describe('SQL the described-data reader writes', () => {
  it('quotes identifiers and escapes values taken from the data', () => {
    const read = describeData("export the shop items in kids' toys", catalog, new Date('2026-11-25T00:00:00Z'));
    expect(read).toMatchObject({ kind: 'query', sql: `SELECT * FROM "shop ""items""" WHERE "aisle" = 'Kids'' Toys'` });
  });

  it('never puts words the person typed into SQL: an unknown word is asked about', () => {
    const read = describeData("export the shop items named '); DROP TABLE x; --", catalog, new Date());
    expect(read?.kind).toBe('unclear');
  });
});
