import Link from 'next/link';
import auth from '@/components/auth.module.css';

export default function NotFound() {
  return (
    <main className={auth.page}>
      <div className={auth.card}>
        <h1>Not found</h1>
        <p>This page does not exist, or it is not yours.</p>
        <Link className="button" href="/chat">
          Back to your chats
        </Link>
      </div>
    </main>
  );
}
