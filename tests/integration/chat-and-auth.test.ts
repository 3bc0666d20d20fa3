import Database from 'better-sqlite3';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_LENGTH } from '@/lib/limits';
import { createTestApp, PROVIDERS, type TestApp } from '../helpers/databases';
import { callerFor, send } from '../helpers/trpc';
import { newUser } from '../helpers/users';

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    return error as TRPCError;
  }
  throw new Error('expected the call to fail');
}

describe.each(PROVIDERS)('auth and chat over tRPC, app database on %s', (provider) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(provider);
  });
  afterAll(() => app.close());

  it('signs up, sets an httpOnly session cookie, and knows the user', async () => {
    const { caller, resHeaders } = await callerFor(app);
    const user = await caller.auth.signUp({
      email: '  New.Person@Example.com ',
      password: 'long enough pw',
      name: 'New Person',
    });
    expect(user.email).toBe('new.person@example.com');
    const cookie = resHeaders.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^askport_session=[\w-]{43}; Expires=.*; Path=\/; HttpOnly; SameSite=Lax$/);
    const token = /askport_session=([^;]+)/.exec(cookie)?.[1];
    const signedIn = await callerFor(app, token);
    expect(await signedIn.caller.auth.me()).toMatchObject({ email: 'new.person@example.com', name: 'New Person' });
  });

  it('signs in with the right password only, with one answer for a wrong email or password', async () => {
    const { caller } = await callerFor(app);
    await caller.auth.signUp({ email: 'pw@example.com', password: 'right password', name: 'Pw' });
    await expect(caller.auth.signIn({ email: 'pw@example.com', password: 'right password' })).resolves.toMatchObject({
      email: 'pw@example.com',
    });
    const wrongPassword = await trpcError(caller.auth.signIn({ email: 'pw@example.com', password: 'wrong password' }));
    const wrongEmail = await trpcError(caller.auth.signIn({ email: 'nobody@example.com', password: 'wrong password' }));
    expect(wrongPassword.code).toBe('BAD_REQUEST');
    expect(wrongPassword.message).toBe(wrongEmail.message);
    expect(
      (await trpcError(caller.auth.signUp({ email: 'pw@example.com', password: 'another one', name: 'Again' })))
        .message,
    ).toMatch(/already exists/);
  });

  it('signs out: the old cookie stops working', async () => {
    const session = await newUser(app.db);
    const { caller, resHeaders } = await callerFor(app, session.token);
    await caller.auth.signOut();
    expect(resHeaders.get('set-cookie')).toMatch(/^askport_session=; Max-Age=0/);
    expect((await trpcError((await callerFor(app, session.token)).caller.auth.me())).code).toBe('UNAUTHORIZED');
  });

  it('requires a session for every procedure except sign-in and sign-up', async () => {
    for (const token of [undefined, 'forged-token', 'x'.repeat(500)]) {
      const { caller } = await callerFor(app, token);
      for (const call of [
        () => caller.auth.me(),
        () => caller.auth.signOut(),
        () => caller.chat.list(),
        () => caller.chat.info(),
        () => caller.chat.act({ chatId: 'any', label: 'CSV', action: { kind: 'set_default_format', format: 'csv' } }),
        () => caller.chat.messages({ chatId: 'any' }),
        () => send(caller, { chatId: null, text: 'show orders' }),
      ]) {
        expect((await trpcError(call())).code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('runs typed SQL: stores the query run with its position, shows 100 rows and the total', async () => {
    const { caller } = await callerFor(app, (await newUser(app.db)).token);
    const first = await send(caller, { chatId: null, text: 'SELECT * FROM events ORDER BY id' });
    const reply = first.messages[1];
    expect(first.messages[0]).toMatchObject({ role: 'user', content: 'SELECT * FROM events ORDER BY id' });
    expect(reply?.payload?.kind).toBe('result');
    if (reply?.payload?.kind !== 'result') throw new Error('no result');
    const source = new Database(app.demoDataFile, { readonly: true });
    const total = source.prepare('SELECT count(*) FROM events').pluck().get() as number;
    source.close();
    expect(reply.payload).toMatchObject({ position: 1, totalRows: total, title: 'events' });
    expect(reply.payload.rows).toHaveLength(100);
    expect(reply.payload.columns.map((column) => column.name)).toEqual([
      'id',
      'customer_id',
      'occurred_at',
      'type',
      'amount',
      'currency',
      'country',
      'description',
    ]);
    expect(reply.content).toBe(`${total.toLocaleString('en-US')} rows. Showing the first 100.`);

    const second = await send(caller, { chatId: first.chatId, text: 'show me the products' });
    expect(second.messages[1]?.payload).toMatchObject({
      kind: 'result',
      position: 2,
      title: 'products',
      sql: 'SELECT * FROM products',
    });
    const runs = await app.db.queryRun.findMany({ where: { chatId: first.chatId }, orderBy: { position: 'asc' } });
    expect(runs.map((run) => [run.position, run.title, run.rowCount])).toEqual([
      [1, 'events', total],
      [2, 'products', 120],
    ]);
    const thread = await caller.chat.messages({ chatId: first.chatId });
    expect(thread.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect((await caller.chat.list())[0]).toMatchObject({
      id: first.chatId,
      title: 'SELECT * FROM events ORDER BY id',
    });
  });

  it('shows up to 1,000 rows of a result on request, and only to its owner', async () => {
    const owner = await newUser(app.db);
    const { caller } = await callerFor(app, owner.token);
    const result = await send(caller, { chatId: null, text: 'SELECT id, status FROM orders ORDER BY id' });
    const payload = result.messages[1]?.payload;
    if (payload?.kind !== 'result') throw new Error(String(result.messages[1]?.content));
    expect(payload.rows).toHaveLength(100);
    const more = await caller.chat.previewRows({ queryRunId: payload.queryRunId });
    expect(more.rows).toHaveLength(1_000);
    expect(more.rows[999]?.[0]).toBe(1_000);
    expect(more.totalRows).toBe(payload.totalRows);
    expect(more.columns).toEqual(payload.columns);
    const { caller: stranger } = await callerFor(app, (await newUser(app.db)).token);
    await expect(stranger.chat.previewRows({ queryRunId: payload.queryRunId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'That query result was not found.',
    });
    await expect(stranger.chat.previewRows({ queryRunId: 'no-such-run' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'That query result was not found.',
    });
  });

  it('says so in words when a query matches no rows, and still shows the columns', async () => {
    const { caller } = await callerFor(app, (await newUser(app.db)).token);
    const result = await send(caller, { chatId: null, text: 'SELECT id, status FROM orders WHERE id < 0' });
    expect(result.messages[1]?.content).toBe(
      'No rows match this query. The columns are below; an export of it is a file with just the header.',
    );
    expect(result.messages[1]?.payload).toMatchObject({
      kind: 'result',
      totalRows: 0,
      rows: [],
      columns: [{ name: 'id' }, { name: 'status' }],
    });
  });

  it.each([
    ['SELECT * FROM orders WHERE', /syntax error near line 1/],
    ['DELETE FROM orders', /Only read-only SELECT or WITH queries can run here; this is a DELETE statement\./],
    ['DROP TABLE orders', /Only read-only|syntax error/],
    ['SELECT 1; SELECT 2', /^Send one statement at a time\.$/],
    [
      'SELECT * FROM "User"',
      /The table "User" is not available\. You can query: customers, events, order_items, orders, products\./,
    ],
    ['SELECT no_such_column FROM orders', /^The database could not run that query: no such column: no_such_column$/],
  ])('answers %j with a clear sentence in the thread and keeps the chat usable', async (text, expected) => {
    const { caller } = await callerFor(app, (await newUser(app.db)).token);
    const result = await send(caller, { chatId: null, text });
    expect(result.messages[1]).toMatchObject({ role: 'assistant', payload: { kind: 'error' } });
    expect(result.messages[1]?.content).toMatch(expected);
    expect(result.messages[1]?.content).not.toMatch(/at \w+ \(|SqliteError|node_modules/);
    const next = await send(caller, { chatId: result.chatId, text: 'show orders' });
    expect(next.messages[1]?.payload).toMatchObject({ kind: 'result', position: 1 });
  });

  it('refuses an empty or over-long message with the zod sentence', async () => {
    const { caller } = await callerFor(app, (await newUser(app.db)).token);
    const empty = await trpcError(caller.chat.send({ chatId: null, text: '   ' }));
    expect(empty.code).toBe('BAD_REQUEST');
    const long = await trpcError(caller.chat.send({ chatId: null, text: 'x'.repeat(MAX_MESSAGE_LENGTH + 1) }));
    expect(long.code).toBe('BAD_REQUEST');
    expect(await app.db.message.count({ where: { content: 'x'.repeat(MAX_MESSAGE_LENGTH + 1) } })).toBe(0);
    // @ts-expect-error: a malformed input, as a hand-written request could send it
    expect((await trpcError(caller.chat.send({ chatId: 42, text: 'show orders' }))).code).toBe('BAD_REQUEST');
  });

  it("answers another user's chat exactly like a missing one: NOT_FOUND", async () => {
    const owner = await callerFor(app, (await newUser(app.db, 'Owner')).token);
    const { chatId } = await send(owner.caller, { chatId: null, text: 'show customers' });
    const intruder = await callerFor(app, (await newUser(app.db, 'Intruder')).token);
    const foreign = await trpcError(intruder.caller.chat.messages({ chatId }));
    const missing = await trpcError(intruder.caller.chat.messages({ chatId: 'does-not-exist' }));
    expect(foreign.code).toBe('NOT_FOUND');
    expect(foreign.message).toBe(missing.message);
    expect((await trpcError(send(intruder.caller, { chatId, text: 'show orders' }))).code).toBe('NOT_FOUND');
    expect(await intruder.caller.chat.list()).toEqual([]);
    expect(await app.db.message.count({ where: { chatId } })).toBe(2);
  });
});
