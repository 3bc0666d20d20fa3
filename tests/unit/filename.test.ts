import { describe, expect, it } from 'vitest';
import { contentDisposition, exportFilename, sanitizeFilenameStem } from '@/lib/filename';

describe('filename sanitiser', () => {
  it.each([
    ['../../etc/passwd', 'etc passwd'],
    ['..\\..\\windows\\system32', 'windows system32'],
    ['orders/2026', 'orders 2026'],
    ['a:b*c?d"e<f>g|h', 'a b c d e f g h'],
    ['line\nbreak\r\ttab', 'line break tab'],
    ['nul\u0000byte', 'nul byte'],
    ['CON', '_CON'],
    ['lpt1.txt', '_lpt1.txt'],
    ['...', 'export'],
    ['', 'export'],
    ['   .hidden  ', 'hidden'],
    ['Größe café 東京', 'Größe café 東京'],
  ])('turns %j into %j', (input, expected) => {
    expect(sanitizeFilenameStem(input)).toBe(expected);
  });

  it('keeps at most 100 characters without splitting a surrogate pair', () => {
    const stem = sanitizeFilenameStem('🚀'.repeat(150));
    expect(Array.from(stem)).toHaveLength(100);
    expect(stem).toBe('🚀'.repeat(100));
  });

  it('adds a UTC timestamp and the extension', () => {
    expect(exportFilename('orders', 'csv', new Date(Date.UTC(2026, 10, 24, 8, 30, 5, 123)))).toBe(
      'orders-2026-11-24T08-30-05Z.csv',
    );
  });

  it('sends non-ASCII names through filename* and an ASCII fallback without quotes', () => {
    const header = contentDisposition('café "quoted" 東京.csv');
    expect(header).toBe(
      `attachment; filename="caf_ _quoted_ __.csv"; filename*=UTF-8''caf%C3%A9%20%22quoted%22%20%E6%9D%B1%E4%BA%AC.csv`,
    );
  });

  it('cannot be used to inject another header parameter', () => {
    const header = contentDisposition(`${sanitizeFilenameStem('x"; filename="evil.exe')}.csv`);
    // Exactly one quoted value, and the quotes the attacker sent are gone from it.
    expect(header.split('"')).toHaveLength(3);
    expect(header).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''[^"; ]+$/);
  });
});
