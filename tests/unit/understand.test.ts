import { describe, expect, it } from 'vitest';
import { understandMessage } from '@/server/intent/understand';

const tables = ['customers', 'events', 'order_items', 'orders', 'products'];

describe('understanding a chat message (before the intent router)', () => {
  it.each([
    ['SELECT * FROM orders', 'SELECT * FROM orders'],
    ['  with t as (select 1) select * from t', 'with t as (select 1) select * from t'],
    ['select\n  id\nfrom orders', 'select\n  id\nfrom orders'],
  ])('sends typed SQL %j to the query path', (text, sql) => {
    expect(understandMessage(text, tables)).toEqual({ kind: 'query', sql });
  });

  it.each(['DELETE FROM orders', 'drop table orders', 'PRAGMA table_info(orders)', 'insert into orders values (1)'])(
    'sends a non-read statement %j to the guard so it can explain the refusal',
    (text) => {
      expect(understandMessage(text, tables).kind).toBe('query');
    },
  );

  it.each([
    ['show orders', 'orders'],
    ['Show me the orders', 'orders'],
    ['show me the customers table', 'customers'],
    ['show all events', 'events'],
    ['list products', 'products'],
    ['show order items', 'order_items'],
    ['show me the order', 'orders'],
    ['please show the events!', 'events'],
  ])('turns %j into the first rows of %s', (text, table) => {
    expect(understandMessage(text, tables)).toEqual({ kind: 'query', sql: `SELECT * FROM ${table}`, title: table });
  });

  it('says which tables exist when asked for one that does not', () => {
    const action = understandMessage('show me the secrets', tables);
    expect(action).toEqual({ kind: 'reply', text: expect.stringContaining('I don\'t know a table called "secrets"') });
    expect(action.kind === 'reply' && action.text).toContain('customers, events, order_items, orders, products');
  });

  it.each(['hello', 'what can you do?', 'export this as csv', 'show; drop table orders', 'selection of orders'])(
    'answers %j with what it can do',
    (text) => {
      const action = understandMessage(text, tables);
      expect(action.kind).toBe('reply');
    },
  );

  it('never builds SQL from text that is not a known table name', () => {
    const action = understandMessage('show orders; drop table orders', tables);
    expect(action.kind).toBe('reply');
  });
});
