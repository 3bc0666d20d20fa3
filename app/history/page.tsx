import { redirect } from 'next/navigation';
import { HistoryView } from '@/components/history-view';
import { currentUser } from '@/server/auth/current-user';

export const dynamic = 'force-dynamic';

export default async function HistoryPage() {
  if (!(await currentUser())) redirect('/sign-in');
  return <HistoryView />;
}
