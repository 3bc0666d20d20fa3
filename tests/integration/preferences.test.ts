import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSession } from '../helpers/chat';
import { createTestApp, PROVIDERS, type TestApp } from '../helpers/databases';
import { callerFor } from '../helpers/trpc';
import { newUser } from '../helpers/users';

describe.each(PROVIDERS)('export preferences, app database on %s', (provider) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(provider);
  });
  afterAll(() => app.close());

  it('are the defaults until saved; reading them writes nothing', async () => {
    const session = await newUser(app.db);
    const { caller } = await callerFor(app, session.token);
    expect(await caller.preferences.get()).toEqual({
      defaultFormat: null,
      csvByteOrderMark: false,
      includeMetadata: false,
      neutraliseFormulas: true,
      jsonBigIntegersAsText: false,
    });
    expect(await app.db.exportPreference.count({ where: { userId: session.user.id } })).toBe(0);
    await caller.preferences.update({ csvByteOrderMark: true });
    expect(await caller.preferences.get()).toEqual({
      defaultFormat: null,
      csvByteOrderMark: true,
      includeMetadata: false,
      neutraliseFormulas: true,
      jsonBigIntegersAsText: false,
    });
    expect(await app.db.exportPreference.count({ where: { userId: session.user.id } })).toBe(1);
  });

  // Two exports starting at once for a new user read the preferences together; two tabs may save
  // them together. Neither may fail (it used to: a unique-constraint race on the first row).
  it('are read and saved by many requests at once for a new user', async () => {
    const session = await newUser(app.db);
    const { caller } = await callerFor(app, session.token);
    const reads = await Promise.all(Array.from({ length: 10 }, () => caller.preferences.get()));
    expect(new Set(reads.map((read) => JSON.stringify(read))).size).toBe(1);
    const other = await newUser(app.db);
    const { caller: otherCaller } = await callerFor(app, other.token);
    const saves = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) =>
        otherCaller.preferences.update({ defaultFormat: index % 2 ? 'json' : 'csv' }),
      ),
    );
    expect(saves.filter((save) => save.status === 'rejected')).toEqual([]);
    expect(await app.db.exportPreference.count({ where: { userId: other.user.id } })).toBe(1);
  });

  it('the dialog and "always use json" edit the same record', async () => {
    const session = await newUser(app.db);
    const { caller } = await callerFor(app, session.token);
    const chat = await chatSession(app, session.token);
    await chat.say('always use json');
    expect((await caller.preferences.get()).defaultFormat).toBe('json');
    await caller.preferences.update({ defaultFormat: 'csv' });
    await chat.say('show products');
    expect((await chat.say('export it')).content).toBe('Exporting 120 rows as CSV — your default format.');
    await caller.preferences.update({ defaultFormat: null });
    expect((await chat.say('export it')).content).toBe('Which format would you like?');
  });

  it('shape the files: byte-order mark, formulas left alone, JSON metadata', async () => {
    const session = await newUser(app.db);
    const { caller } = await callerFor(app, session.token);
    await caller.preferences.update({ csvByteOrderMark: true, neutraliseFormulas: false, includeMetadata: true });
    const chat = await chatSession(app, session.token);
    await chat.say("SELECT id, description FROM events WHERE description LIKE '=%' ORDER BY id LIMIT 3");
    const csv = await chat.say('export this as csv');
    if (csv.payload?.kind !== 'export') throw new Error(csv.content);
    // Read as bytes: Response.text() would drop the byte-order mark while decoding.
    const bytes = Buffer.from(await (await chat.download(csv.payload.downloadUrl)).arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.startsWith('id,description\r\n')).toBe(true);
    expect(text).toContain(',=SUM(A1:A9)\r\n');
    const json = await chat.say('export this as json');
    if (json.payload?.kind !== 'export') throw new Error(json.content);
    const document = (await (await chat.download(json.payload.downloadUrl)).json()) as {
      rows: unknown[];
      metadata: { rowCount: number; query: string };
    };
    expect(document.rows).toHaveLength(3);
    expect(document.metadata).toMatchObject({
      rowCount: 3,
      query: "SELECT id, description FROM events WHERE description LIKE '=%' ORDER BY id LIMIT 3",
    });
  });

  it('refuses a bad update with the zod sentence', async () => {
    const { caller } = await callerFor(app, (await newUser(app.db)).token);
    for (const input of [{}, { defaultFormat: 'pdf' }, { csvByteOrderMark: 'yes' }]) {
      // @ts-expect-error: inputs a hand-written request could send
      const error = await caller.preferences.update(input).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe('BAD_REQUEST');
    }
  });
});
