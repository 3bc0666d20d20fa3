import { createHash, randomBytes } from 'node:crypto';
import type { Credentials, SignUp } from '@/lib/credentials';
import type { AppDb, User } from '../db/client';
import { InvalidRequestError } from '../errors';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password';

export const SESSION_COOKIE = 'askport_session';
const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export type SessionUser = Pick<User, 'id' | 'email' | 'name'>;

export interface IssuedSession {
  token: string;
  expiresAt: Date;
  user: SessionUser;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

async function issueSession(db: AppDb, user: SessionUser): Promise<IssuedSession> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.session.create({ data: { tokenHash: hashToken(token), userId: user.id, expiresAt } });
  return { token, expiresAt, user };
}

function publicUser(user: User): SessionUser {
  return { id: user.id, email: user.email, name: user.name };
}

export async function signUp(db: AppDb, input: SignUp): Promise<IssuedSession> {
  const existing = await db.user.findUnique({ where: { email: input.email } });
  if (existing) throw new InvalidRequestError('An account with this email already exists. Sign in instead.');
  const user = await db.user.create({
    data: { email: input.email, name: input.name, passwordHash: await hashPassword(input.password) },
  });
  return issueSession(db, publicUser(user));
}

const WRONG_CREDENTIALS = 'That email and password do not match an account.';

export async function signIn(db: AppDb, input: Credentials): Promise<IssuedSession> {
  const user = await db.user.findUnique({ where: { email: input.email } });
  // Same work and the same answer whether the email or the password is wrong.
  const valid = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !valid) throw new InvalidRequestError(WRONG_CREDENTIALS);
  return issueSession(db, publicUser(user));
}

export async function signOut(db: AppDb, token: string | undefined): Promise<void> {
  if (!token) return;
  await db.session.deleteMany({ where: { tokenHash: hashToken(token) } });
}

/** The user a session cookie belongs to, or null for a missing, unknown or expired token. */
export async function userForSessionToken(db: AppDb, token: string | undefined | null): Promise<SessionUser | null> {
  if (!token || token.length > 200) return null;
  const session = await db.session.findUnique({ where: { tokenHash: hashToken(token) }, include: { user: true } });
  if (!session) return null;
  if (session.expiresAt.getTime() <= Date.now()) {
    // Ignored: the session is expired either way; a row left behind is refused the same next time.
    await db.session.delete({ where: { id: session.id } }).catch(() => undefined);
    return null;
  }
  return publicUser(session.user);
}

/** Reads the session token from a Cookie header. */
export function sessionTokenFromCookieHeader(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export function sessionCookie(session: { token: string; expiresAt: Date } | null, secure: boolean): string {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])];
  if (!session) return [`${SESSION_COOKIE}=`, 'Max-Age=0', ...attributes].join('; ');
  return [`${SESSION_COOKIE}=${session.token}`, `Expires=${session.expiresAt.toUTCString()}`, ...attributes].join('; ');
}

export const DEMO_ACCOUNT = { email: 'demo@askport.dev', password: 'askport-demo', name: 'Demo User' } as const;

/** Creates the demo account on the embedded default if it is missing. */
export async function ensureDemoUser(db: AppDb): Promise<void> {
  const existing = await db.user.findUnique({ where: { email: DEMO_ACCOUNT.email } });
  if (existing) return;
  await db.user
    .create({
      data: {
        email: DEMO_ACCOUNT.email,
        name: DEMO_ACCOUNT.name,
        passwordHash: await hashPassword(DEMO_ACCOUNT.password),
      },
    })
    .catch(async (error: unknown) => {
      // Another process created it at the same moment: fine.
      if (!(await db.user.findUnique({ where: { email: DEMO_ACCOUNT.email } }))) throw error;
    });
}
