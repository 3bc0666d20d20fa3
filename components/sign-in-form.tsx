'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { useTRPC } from './trpc';
import styles from './auth.module.css';

interface SignInFormProps {
  demo: { email: string; password: string } | null;
}

export function SignInForm({ demo }: SignInFormProps) {
  const trpc = useTRPC();
  const router = useRouter();
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const onSuccess = () => {
    router.replace('/chat');
    router.refresh();
  };
  const signIn = useMutation(trpc.auth.signIn.mutationOptions({ onSuccess }));
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess }));
  const active = mode === 'sign-in' ? signIn : signUp;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (mode === 'sign-in') signIn.mutate({ email, password });
    else signUp.mutate({ email, password, name });
  }

  return (
    <>
      <div className={styles.tabs} role="tablist" aria-label="Account">
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'sign-in'}
          className={mode === 'sign-in' ? `${styles.tab} ${styles.active}` : styles.tab}
          onClick={() => setMode('sign-in')}
        >
          Sign in
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'sign-up'}
          className={mode === 'sign-up' ? `${styles.tab} ${styles.active}` : styles.tab}
          onClick={() => setMode('sign-up')}
        >
          Create account
        </button>
      </div>
      <form className={styles.form} onSubmit={submit}>
        {mode === 'sign-up' && (
          <label>
            Name
            <input
              name="name"
              autoComplete="name"
              value={name}
              onChange={(event) => setName(event.target.value)}
              required
            />
          </label>
        )}
        <label>
          Email
          <input
            name="email"
            type="email"
            autoComplete="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'sign-in' ? 'current-password' : 'new-password'}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
            minLength={8}
          />
        </label>
        {active.error && (
          <p className="form-error" role="alert">
            {active.error.message}
          </p>
        )}
        <button className="button primary" type="submit" disabled={active.isPending}>
          {active.isPending ? 'One moment…' : mode === 'sign-in' ? 'Sign in' : 'Create account'}
        </button>
      </form>
      {demo && mode === 'sign-in' && (
        <div className={styles.demo}>
          <p>
            Demo account: <code>{demo.email}</code> / <code>{demo.password}</code>
          </p>
          <button
            type="button"
            className="button"
            onClick={() => {
              setEmail(demo.email);
              setPassword(demo.password);
              signIn.mutate({ email: demo.email, password: demo.password });
            }}
          >
            Sign in as the demo user
          </button>
        </div>
      )}
    </>
  );
}
