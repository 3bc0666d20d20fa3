import { cookies } from 'next/headers';
import { getAppServices } from '../services';
import { SESSION_COOKIE, userForSessionToken, type SessionUser } from './service';

/** The signed-in user for server components, from the session cookie. */
export async function currentUser(): Promise<SessionUser | null> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  const { db } = await getAppServices();
  return userForSessionToken(db, token);
}
