import { redirect } from 'next/navigation';
import { SignInForm } from '@/components/sign-in-form';
import { DEMO_ACCOUNT } from '@/server/auth/service';
import { currentUser } from '@/server/auth/current-user';
import { isEmbeddedDefault } from '@/server/services';
import auth from '@/components/auth.module.css';

export const dynamic = 'force-dynamic';

export default async function SignInPage() {
  if (await currentUser()) redirect('/chat');
  const demo = isEmbeddedDefault() ? { email: DEMO_ACCOUNT.email, password: DEMO_ACCOUNT.password } : null;
  return (
    <main className={auth.page}>
      <div className={auth.card}>
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ⇪
          </span>{' '}
          Askport
        </div>
        <p className={auth.tagline}>Ask your data a question. Take the answer with you.</p>
        <SignInForm demo={demo} />
      </div>
    </main>
  );
}
