import { redirect } from 'next/navigation';
import { ChatApp } from '@/components/chat-app';
import { currentUser } from '@/server/auth/current-user';

export const dynamic = 'force-dynamic';

export default async function NewChatPage() {
  const user = await currentUser();
  if (!user) redirect('/sign-in');
  return <ChatApp user={user} chatId={null} />;
}
