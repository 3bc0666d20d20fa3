// npm run --silent token -- --email <email>: prints a new API token for that user (an operator
// command: the account is created with a random password if it does not exist).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createApiToken, ensureUserForEmail } from '../auth/api-tokens';
import { getAppDb } from '../db/client';

const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } } });
const email = z.email().safeParse(values.email?.trim().toLowerCase());
if (!email.success) {
  console.error('Usage: npm run --silent token -- --email <email> [--name <label>]');
  process.exit(2);
}
const db = await getAppDb();
const user = await ensureUserForEmail(db, email.data);
const token = await createApiToken(db, user.id, values.name ?? 'cli');
if (user.created) console.error(`Created the account ${email.data}.`);
console.log(token);
await db.$disconnect();
