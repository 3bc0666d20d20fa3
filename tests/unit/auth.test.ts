import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '@/server/auth/password';
import { SESSION_COOKIE, sessionCookie, sessionTokenFromCookieHeader } from '@/server/auth/service';

describe('passwords', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it.each(['', 'plain-text-password', 'bcrypt$x$y', 'scrypt$16384$8$1$$', 'scrypt$16384$8$1$c2FsdA==$'])(
    'refuses a malformed stored hash %j',
    async (stored) => {
      expect(await verifyPassword('plain-text-password', stored)).toBe(false);
    },
  );

  it('refuses a stored hash whose key was truncated', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored.slice(0, -8))).toBe(false);
  });
});

describe('session cookie', () => {
  it('is httpOnly, SameSite and scoped to the whole site', () => {
    const cookie = sessionCookie({ token: 'abc', expiresAt: new Date(Date.UTC(2030, 0, 1)) }, true);
    expect(cookie).toBe(
      `${SESSION_COOKIE}=abc; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax; Secure`,
    );
  });

  it('clears itself on sign-out', () => {
    expect(sessionCookie(null, false)).toBe(`${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`);
  });

  it.each([
    [null, undefined],
    ['', undefined],
    ['other=1', undefined],
    [`${SESSION_COOKIE}=tok`, 'tok'],
    [`a=1; ${SESSION_COOKIE}=tok%3D; b=2`, 'tok='],
    [`x${SESSION_COOKIE}=evil`, undefined],
  ])('reads the token from %j', (header, token) => {
    expect(sessionTokenFromCookieHeader(header)).toBe(token);
  });
});
