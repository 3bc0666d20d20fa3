import { redirect } from 'next/navigation';
import { currentUser } from '@/server/auth/current-user';

export const dynamic = 'force-dynamic';

export default async function HomePage() {
  redirect((await currentUser()) ? '/chat' : '/sign-in');
}
