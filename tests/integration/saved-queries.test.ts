import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSession } from '../helpers/chat';
import { createTestApp, PROVIDERS, type TestApp } from '../helpers/databases';
import { callerFor } from '../helpers/trpc';
import { newUser } from '../helpers/users';

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return (error as TRPCError).code;
}

describe.each(PROVIDERS)('saved queries and Run & Export, app database on %s', (provider) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(provider);
  });
  afterAll(() => app.close());

  it('"save this as weekly revenue" saves the latest result of the chat; list, rename and delete', async () => {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const { caller } = await callerFor(app, session.token);
    expect((await chat.say('save this as nothing yet')).content).toBe(
      'There is no result in this chat to save yet: run a query first.',
    );
    await chat.say('SELECT status, count(*) AS orders FROM orders GROUP BY status');
    expect((await chat.say('save this as weekly revenue')).content).toBe(
      'Saved "orders" as "weekly revenue". Find it under Saved queries, where Run & Export runs it again and downloads it.',
    );
    expect((await chat.say('save this as weekly revenue')).content).toBe(
      'You already have a saved query called "weekly revenue". Choose another name.',
    );
    const [saved] = await caller.savedQueries.list();
    expect(saved).toMatchObject({
      name: 'weekly revenue',
      sql: 'SELECT status, count(*) AS orders FROM orders GROUP BY status',
    });
    await caller.savedQueries.rename({ id: saved!.id, name: 'Orders by status' });
    expect((await caller.savedQueries.list()).map((query) => query.name)).toEqual(['Orders by status']);
    await caller.savedQueries.delete({ id: saved!.id });
    expect(await caller.savedQueries.list()).toEqual([]);
  });

  it('Run & Export downloads in the default format with no prompt', async () => {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const { caller } = await callerFor(app, session.token);
    const result = await chat.say('show products');
    if (result.payload?.kind !== 'result') throw new Error(result.content);
    const saved = await caller.savedQueries.save({ queryRunId: result.payload.queryRunId, name: 'All products' });
    await caller.preferences.update({ defaultFormat: 'json' });
    const ran = await caller.savedQueries.runAndExport({ id: saved.id });
    expect(ran.messages.map((message) => message.content)).toEqual([
      'Run & Export: All products',
      '120 rows. Showing the first 100.',
      'Exporting 120 rows as JSON — your default format.',
    ]);
    const exported = ran.messages[2]!.payload;
    if (exported?.kind !== 'export') throw new Error('no export');
    expect(((await (await chat.download(exported.downloadUrl)).json()) as unknown[]).length).toBe(120);
    expect((await caller.chat.list())[0]).toMatchObject({ id: ran.chatId, title: 'All products' });
  });

  it('without a default, asks once with chips, and an "always" chip remembers the choice', async () => {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const { caller } = await callerFor(app, session.token);
    const result = await chat.say('show customers');
    if (result.payload?.kind !== 'result') throw new Error(result.content);
    const saved = await caller.savedQueries.save({ queryRunId: result.payload.queryRunId, name: 'Customers' });
    const ran = await caller.savedQueries.runAndExport({ id: saved.id });
    const question = ran.messages[2]!;
    expect(question.content).toBe('Which format? Choose one of the "always" chips to use it from now on.');
    if (question.payload?.kind !== 'choice') throw new Error('no choice');
    expect(question.payload.options.map((option) => option.label)).toEqual([
      'CSV',
      'JSON',
      'Excel',
      'Always CSV',
      'Always JSON',
      'Always Excel',
    ]);
    const always = question.payload.options[3]!;
    const done = await caller.chat.act({ chatId: ran.chatId, label: always.label, action: always.action });
    expect(done.messages[1]?.payload).toMatchObject({ kind: 'export', format: 'csv' });
    expect((await caller.preferences.get()).defaultFormat).toBe('csv');
  });

  it("answers another user's saved query exactly like a missing one, and refuses to save their run", async () => {
    const owner = await newUser(app.db);
    const ownerChat = await chatSession(app, owner.token);
    const result = await ownerChat.say('show orders');
    if (result.payload?.kind !== 'result') throw new Error(result.content);
    const ownerRunId = result.payload.queryRunId;
    const saved = await (await callerFor(app, owner.token)).caller.savedQueries.save({
      queryRunId: ownerRunId,
      name: 'Mine',
    });
    const { caller } = await callerFor(app, (await newUser(app.db)).token);
    for (const call of [
      () => caller.savedQueries.runAndExport({ id: saved.id }),
      () => caller.savedQueries.rename({ id: saved.id, name: 'Stolen' }),
      () => caller.savedQueries.delete({ id: saved.id }),
      () => caller.savedQueries.save({ queryRunId: ownerRunId, name: 'Stolen' }),
    ]) {
      expect(await code(call())).toBe('NOT_FOUND');
    }
    expect(await code(caller.savedQueries.runAndExport({ id: 'missing' }))).toBe('NOT_FOUND');
    expect(await caller.savedQueries.list()).toEqual([]);
    expect(await app.db.savedQuery.findUniqueOrThrow({ where: { id: saved.id } })).toMatchObject({ name: 'Mine' });
  });

  it('refuses an empty or over-long name with the zod sentence', async () => {
    const session = await newUser(app.db);
    const { caller } = await callerFor(app, session.token);
    expect(await code(caller.savedQueries.save({ queryRunId: 'x', name: '   ' }))).toBe('BAD_REQUEST');
    expect(await code(caller.savedQueries.save({ queryRunId: 'x', name: 'n'.repeat(81) }))).toBe('BAD_REQUEST');
  });
});
