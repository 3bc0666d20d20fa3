import { redirect } from 'next/navigation';
import { ChatApp } from '@/components/chat-app';
import { currentUser } from '@/server/auth/current-user';

export const dynamic = 'force-dynamic';

export default async function ChatPage({ params }: { params: Promise<{ chatId: string }> }) {
  const user = await currentUser();
  if (!user) redirect('/sign-in');
  const { chatId } = await params;
  return <ChatApp user={user} chatId={chatId} />;
}
