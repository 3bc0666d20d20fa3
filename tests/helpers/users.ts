import { signUp, type IssuedSession } from '@/server/auth/service';
import type { AppDb } from '@/server/db/client';

let counter = 0;

/** Signs up a new user with a unique email and returns the session. */
export async function newUser(db: AppDb, name = 'Test User'): Promise<IssuedSession> {
  counter += 1;
  return signUp(db, { email: `user${counter}-${Date.now()}@example.com`, password: 'correct horse battery', name });
}
