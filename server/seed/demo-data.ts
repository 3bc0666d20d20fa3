// Deterministic demo data for the data source: the same event count always gives the same rows (and,
// on SQLite, the same file bytes). Text deliberately carries what breaks naive exporters: commas,
// quotes, line breaks, non-ASCII, and values that a spreadsheet would run as formulas.

export interface DemoTable {
  name: string;
  /** CREATE TABLE body, portable between SQLite and PostgreSQL. */
  columns: Array<{ name: string; type: string }>;
  indexes: string[];
  rows: () => Iterable<unknown[]>;
}

/** Small, fast, seedable PRNG (mulberry32): enough for demo data, never for secrets. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloé',
  'Dmitri',
  'Émile',
  'Fatima',
  'Günther',
  'Hana',
  'Iñigo',
  'Jun',
  'Kofi',
  'Lena',
  'Mateo',
  'Nadia',
  'Olu',
  'Priya',
  'Quinn',
  'Rosa',
  'Søren',
  'Tomás',
  'Uma',
  'Wei',
  'Yara',
  'Zoë',
];
const LAST_NAMES = [
  'Smith',
  "O'Brien",
  'Müller',
  'García',
  'Nakamura',
  'Kowalski',
  'Dubois',
  'Rossi',
  'Singh',
  'Okafor',
  'Andersson',
  'Silva',
  'Ivanova',
  'Chen',
  'Haddad',
  'Byrne',
];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'JP', 'BR', 'IN', 'NG', 'SE', 'CA', 'AU'];
const CURRENCIES: Record<string, string> = {
  US: 'USD',
  GB: 'GBP',
  DE: 'EUR',
  FR: 'EUR',
  ES: 'EUR',
  JP: 'JPY',
  BR: 'BRL',
  IN: 'INR',
  NG: 'NGN',
  SE: 'SEK',
  CA: 'CAD',
  AU: 'AUD',
};
const CATEGORIES = ['Books', 'Garden', 'Kitchen', 'Outdoor', 'Toys', 'Électronique'];
const PRODUCT_WORDS = [
  'Lamp',
  'Chair',
  'Kettle',
  'Tent',
  'Puzzle',
  'Notebook',
  'Headphones',
  'Planter',
  'Backpack',
  'Mug',
];
const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'refunded'];
const EVENT_TYPES = ['page_view', 'signup', 'purchase', 'refund', 'support_ticket', 'export'];
const DESCRIPTIONS = [
  'Checkout completed',
  'Paid with card, 3 items',
  'Customer said "great service"',
  'Line one\nline two',
  'Windows line\r\nbreak',
  'Größe: XL — café ☕, 東京',
  '=SUM(A1:A9)',
  '+1 555 0100',
  '-discount applied',
  '@mention in note',
  'Tab\tseparated',
  'Comma, "quotes", and\nnewline',
  'Emoji 🚀 launch',
  '',
];

const START_MS = Date.UTC(2025, 0, 1);
const SPAN_SECONDS = 22 * 30 * 24 * 3600; // about 22 months, ending in late 2026

function isoAt(secondsFromStart: number): string {
  return new Date(START_MS + secondsFromStart * 1000).toISOString().replace('.000Z', 'Z');
}

/** Cents → exact decimal text ("1234.50"); stored as the database's exact decimal type. */
function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export interface DemoSizes {
  events: number;
  customers?: number;
  products?: number;
  orders?: number;
}

export function demoTables(sizes: DemoSizes): DemoTable[] {
  const customerCount = sizes.customers ?? 1_000;
  const productCount = sizes.products ?? 120;
  const orderCount = sizes.orders ?? 5_000;
  const productPrices: number[] = [];

  return [
    {
      name: 'customers',
      columns: [
        { name: 'id', type: 'INTEGER PRIMARY KEY' },
        { name: 'name', type: 'TEXT NOT NULL' },
        { name: 'email', type: 'TEXT NOT NULL' },
        { name: 'country', type: 'TEXT NOT NULL' },
        { name: 'created_at', type: 'TEXT NOT NULL' },
      ],
      indexes: [],
      *rows() {
        const random = createRandom(1);
        for (let id = 1; id <= customerCount; id++) {
          const first = random.pick(FIRST_NAMES);
          const last = random.pick(LAST_NAMES);
          const email = `${first}.${last}.${id}@example.com`
            .toLowerCase()
            .normalize('NFD')
            .replace(/[^a-z0-9.@]/g, '');
          yield [id, `${first} ${last}`, email, random.pick(COUNTRIES), isoAt(random.int(0, SPAN_SECONDS / 2))];
        }
      },
    },
    {
      name: 'products',
      columns: [
        { name: 'id', type: 'INTEGER PRIMARY KEY' },
        { name: 'name', type: 'TEXT NOT NULL' },
        { name: 'category', type: 'TEXT NOT NULL' },
        { name: 'price', type: 'DECIMAL(12,2) NOT NULL' },
      ],
      indexes: [],
      *rows() {
        const random = createRandom(2);
        for (let id = 1; id <= productCount; id++) {
          const cents = random.int(199, 89_999);
          productPrices[id] = cents;
          const size = random.pick(['', ' 10"', ', large', ' (v2)']);
          yield [id, `${random.pick(PRODUCT_WORDS)} ${id}${size}`, random.pick(CATEGORIES), money(cents)];
        }
      },
    },
    {
      name: 'orders',
      columns: [
        { name: 'id', type: 'INTEGER PRIMARY KEY' },
        { name: 'customer_id', type: 'INTEGER NOT NULL' },
        { name: 'ordered_at', type: 'TEXT NOT NULL' },
        { name: 'status', type: 'TEXT NOT NULL' },
        { name: 'total', type: 'DECIMAL(12,2) NOT NULL' },
        { name: 'note', type: 'TEXT' },
      ],
      indexes: [
        'CREATE INDEX orders_customer_id ON orders (customer_id)',
        'CREATE INDEX orders_ordered_at ON orders (ordered_at)',
      ],
      *rows() {
        const random = createRandom(3);
        for (let id = 1; id <= orderCount; id++) {
          const note = random.next() < 0.7 ? null : random.pick(DESCRIPTIONS);
          yield [
            id,
            random.int(1, customerCount),
            isoAt(random.int(0, SPAN_SECONDS)),
            random.pick(ORDER_STATUSES),
            money(random.int(500, 250_000)),
            note,
          ];
        }
      },
    },
    {
      name: 'order_items',
      columns: [
        { name: 'id', type: 'INTEGER PRIMARY KEY' },
        { name: 'order_id', type: 'INTEGER NOT NULL' },
        { name: 'product_id', type: 'INTEGER NOT NULL' },
        { name: 'quantity', type: 'INTEGER NOT NULL' },
        { name: 'unit_price', type: 'DECIMAL(12,2) NOT NULL' },
      ],
      indexes: ['CREATE INDEX order_items_order_id ON order_items (order_id)'],
      *rows() {
        const random = createRandom(4);
        let id = 1;
        for (let orderId = 1; orderId <= orderCount; orderId++) {
          const lines = random.int(1, 4);
          for (let line = 0; line < lines; line++) {
            const productId = random.int(1, productCount);
            yield [id++, orderId, productId, random.int(1, 5), money(productPrices[productId] ?? 999)];
          }
        }
      },
    },
    {
      name: 'events',
      columns: [
        { name: 'id', type: 'INTEGER PRIMARY KEY' },
        { name: 'customer_id', type: 'INTEGER NOT NULL' },
        { name: 'occurred_at', type: 'TEXT NOT NULL' },
        { name: 'type', type: 'TEXT NOT NULL' },
        { name: 'amount', type: 'DECIMAL(14,2)' },
        { name: 'currency', type: 'TEXT' },
        { name: 'country', type: 'TEXT NOT NULL' },
        { name: 'description', type: 'TEXT' },
      ],
      indexes: [
        'CREATE INDEX events_occurred_at ON events (occurred_at)',
        'CREATE INDEX events_customer_id ON events (customer_id)',
      ],
      *rows() {
        const random = createRandom(5);
        const step = SPAN_SECONDS / Math.max(sizes.events, 1);
        for (let id = 1; id <= sizes.events; id++) {
          const type = random.pick(EVENT_TYPES);
          const country = random.pick(COUNTRIES);
          const hasAmount = type === 'purchase' || type === 'refund';
          const cents = hasAmount ? random.int(100, 500_000) * (type === 'refund' ? -1 : 1) : 0;
          const description = random.next() < 0.1 ? null : random.pick(DESCRIPTIONS);
          yield [
            id,
            random.int(1, customerCount),
            isoAt(Math.floor(id * step) + random.int(0, 59)),
            type,
            hasAmount ? money(cents) : null,
            hasAmount ? (CURRENCIES[country] ?? 'USD') : null,
            country,
            description,
          ];
        }
      },
    },
  ];
}
