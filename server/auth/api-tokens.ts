import { createHash, randomBytes } from 'node:crypto';
import type { AppDb } from '../db/client';
import { hashPassword } from './password';
import type { SessionUser } from './service';

// API tokens for scripts: "ap_" + 32 random bytes. The database keeps only their SHA-256, so a
// leaked row cannot be used as a token.
const PREFIX = 'ap_';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createApiToken(db: AppDb, userId: string, name: string): Promise<string> {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  await db.apiToken.create({ data: { userId, name, tokenHash: hashToken(token) } });
  return token;
}

/** The user an `Authorization: Bearer …` header belongs to, or null. */
export async function userForAuthorizationHeader(db: AppDb, header: string | null): Promise<SessionUser | null> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const token = match?.[1];
  if (!token?.startsWith(PREFIX) || token.length > 100) return null;
  const found = await db.apiToken.findUnique({ where: { tokenHash: hashToken(token) }, include: { user: true } });
  if (!found) return null;
  // Ignored: last-used is informational; the request goes on.
  await db.apiToken.update({ where: { id: found.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  return { id: found.user.id, email: found.user.email, name: found.user.name };
}

/** The account for an email, created with a random password (nobody knows it) when missing. */
export async function ensureUserForEmail(db: AppDb, email: string): Promise<{ id: string; created: boolean }> {
  const existing = await db.user.findUnique({ where: { email } });
  if (existing) return { id: existing.id, created: false };
  const user = await db.user.create({
    data: {
      email,
      name: email.split('@')[0] ?? email,
      passwordHash: await hashPassword(randomBytes(24).toString('base64url')),
    },
  });
  return { id: user.id, created: true };
}
