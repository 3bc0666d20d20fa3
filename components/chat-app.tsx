'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ChatAction } from '@/lib/chat-action';
import { MAX_MESSAGE_LENGTH } from '@/lib/limits';
import { ChatMessage, type ChatMessageData } from './chat-message';
import { startDownload } from './download';
import { markStartedHere } from './export-progress';
import { ExportToasts } from './export-toasts';
import { SavedQueries } from './saved-queries';
import { SettingsDialog } from './settings-dialog';
import { useTRPC, useTRPCClient } from './trpc';
import { ChipGroup } from './chip-group';
import styles from './chat-app.module.css';
import messageStyles from './chat-message.module.css';

interface ChatAppProps {
  user: { id: string; email: string; name: string };
  chatId: string | null;
}

export function ChatApp({ user, chatId }: ChatAppProps) {
  const trpc = useTRPC();
  const trpcClient = useTRPCClient();
  const router = useRouter();
  const queryClient = useQueryClient();
  const chats = useQuery(trpc.chat.list.queryOptions());
  const info = useQuery(trpc.chat.info.queryOptions());
  const messages = useQuery({ ...trpc.chat.messages.queryOptions({ chatId: chatId ?? '' }), enabled: chatId !== null });
  const [draft, setDraft] = useState('');
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [pendingText, setPendingText] = useState<string | null>(null);
  // The model's words as they stream in, shown until the stored answer replaces them.
  const [streamingText, setStreamingText] = useState('');
  const threadEnd = useRef<HTMLDivElement>(null);

  const onAnswered = (result: { chatId: string; messages: Array<ChatMessageData & { createdAt: Date }> }) => {
    const key = trpc.chat.messages.queryKey({ chatId: result.chatId });
    queryClient.setQueryData(key, (previous) => [...(previous ?? []), ...result.messages]);
    void queryClient.invalidateQueries({ queryKey: trpc.chat.list.queryKey() });
    // An export the assistant just started downloads at once (a job: as soon as its file is ready);
    // on reload it only offers "Download again".
    for (const message of result.messages) {
      if (message.payload?.kind !== 'export') continue;
      if (message.payload.delivery === 'file') markStartedHere(message.payload.exportId);
      else startDownload(message.payload.downloadUrl);
    }
    if (result.chatId !== chatId) router.push(`/chat/${result.chatId}`);
  };
  const send = useMutation({
    mutationFn: async (input: { chatId: string | null; text: string }) => {
      for await (const event of await trpcClient.chat.send.mutate(input)) {
        if (event.type === 'text') setStreamingText((text) => text + event.delta);
        else return event;
      }
      throw new Error('The answer was cut off. Please try again.');
    },
    onSuccess: onAnswered,
    onSettled: () => {
      setPendingText(null);
      setStreamingText('');
    },
  });
  const act = useMutation(
    trpc.chat.act.mutationOptions({ onSuccess: onAnswered, onSettled: () => setPendingText(null) }),
  );
  const busy = send.isPending || act.isPending;
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      onSuccess: () => {
        queryClient.clear();
        router.replace('/sign-in');
        router.refresh();
      },
    }),
  );

  const thread = chatId ? (messages.data ?? []) : [];
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new message or a message being sent is what triggers the scroll
  useEffect(() => {
    threadEnd.current?.scrollIntoView({ block: 'end' });
  }, [thread.length, pendingText]);

  function submit(text: string) {
    const trimmed = text.trim();
    if (!trimmed || busy) return;
    setPendingText(trimmed);
    setDraft('');
    send.mutate({ chatId, text: trimmed });
  }

  function onAction(label: string, action: ChatAction) {
    if (!chatId || busy) return;
    setPendingText(label);
    act.mutate({ chatId, label, action });
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    submit(draft);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit(draft);
    }
  }

  const tooLong = draft.length > MAX_MESSAGE_LENGTH;
  const starters = (info.data?.tables ?? []).slice(0, 4).map((table) => `show ${table}`);

  return (
    <div className={styles.app}>
      <aside className={styles.sidebar} aria-label="Chats">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ⇪
          </span>{' '}
          Askport
          {info.data?.mode === 'offline' && (
            <span
              className="badge"
              title="No OpenAI key is set: the assistant understands SQL, tables and export requests with its built-in parser."
            >
              Offline mode
            </span>
          )}
        </div>
        <Link className={`button primary ${styles.newChat}`} href="/chat">
          + New chat
        </Link>
        <nav className={styles.chatList}>
          {chats.isPending && (
            <div className={styles.skeletonList} role="status" aria-label="Loading chats">
              <div className="skeleton line" />
              <div className="skeleton line" />
              <div className="skeleton line" />
            </div>
          )}
          {chats.data?.length === 0 && <p className="muted">No chats yet.</p>}
          {chats.data?.map((chat) => (
            <Link
              key={chat.id}
              href={`/chat/${chat.id}`}
              className={chat.id === chatId ? `${styles.chatLink} ${styles.active}` : styles.chatLink}
              aria-current={chat.id === chatId ? 'page' : undefined}
            >
              {chat.title}
            </Link>
          ))}
        </nav>
        <SavedQueries onAnswered={onAnswered} />
        <div className={styles.account}>
          <span className={styles.accountName} title={user.email}>
            {user.name}
          </span>
          <button type="button" className="link-button" onClick={() => setSettingsOpen(true)}>
            Export settings
          </button>
          <Link className="link-button" href="/history">
            Export history
          </Link>
          <button type="button" className="link-button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
            Sign out
          </button>
        </div>
      </aside>

      <SettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} />
      <main className={styles.chat}>
        <div className={styles.thread} aria-live="polite">
          {chatId === null && (
            <div
              className={`${messageStyles.message} ${messageStyles.assistant} ${messageStyles.welcome}`}
              data-message="assistant"
              data-welcome
            >
              <p>
                Hi {user.name.split(' ')[0]}! Ask me about your data: type SQL (<code>SELECT …</code>) or ask me to show
                a table. Every answer can be downloaded as CSV, JSON or Excel.
              </p>
              {starters.length > 0 && (
                <ChipGroup label="Try one of these">
                  {starters.map((starter) => (
                    <button
                      key={starter}
                      type="button"
                      className="chip"
                      onClick={() => submit(starter)}
                      disabled={busy}
                    >
                      {starter}
                    </button>
                  ))}
                </ChipGroup>
              )}
            </div>
          )}
          {chatId !== null && messages.isPending && (
            <div className="skeleton" role="status" aria-label="Loading messages" />
          )}
          {messages.error && chatId !== null && (
            <p
              className={`${messageStyles.message} ${messageStyles.assistant} ${messageStyles.error}`}
              data-message="assistant"
              role="alert"
            >
              {messages.error.message}
            </p>
          )}
          {thread.map((message) => (
            <ChatMessage key={message.id} message={message} onAction={onAction} busy={busy} />
          ))}
          {pendingText && (
            <>
              <div
                className={`${messageStyles.message} ${messageStyles.user} ${messageStyles.pending}`}
                data-message="user"
              >
                <p data-message-text>{pendingText}</p>
              </div>
              <div
                className={`${messageStyles.message} ${messageStyles.assistant} ${messageStyles.thinking}`}
                data-message="assistant"
                data-thinking
                role="status"
              >
                {streamingText ? (
                  <p data-message-text>{streamingText}</p>
                ) : (
                  <>
                    <span className="dots" aria-hidden="true" /> Working on it…
                  </>
                )}
              </div>
            </>
          )}
          {(send.error ?? act.error) && (
            <p
              className={`${messageStyles.message} ${messageStyles.assistant} ${messageStyles.error}`}
              data-message="assistant"
              role="alert"
            >
              {(send.error ?? act.error)?.message}
            </p>
          )}
          <div ref={threadEnd} />
        </div>

        <form className={styles.composer} onSubmit={onSubmit}>
          <label htmlFor="composer-input" className="visually-hidden">
            Message
          </label>
          <textarea
            id="composer-input"
            name="message"
            placeholder='Ask or type SQL — e.g. "show orders"'
            rows={2}
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={onKeyDown}
            aria-invalid={tooLong}
            aria-describedby="composer-hint"
          />
          <button className="button primary" type="submit" disabled={busy || draft.trim().length === 0 || tooLong}>
            {busy ? 'Running…' : 'Send'}
          </button>
          <p id="composer-hint" className={tooLong ? `${styles.hint} ${styles.over}` : styles.hint}>
            {tooLong
              ? `Too long: ${draft.length.toLocaleString('en-US')} of ${MAX_MESSAGE_LENGTH.toLocaleString('en-US')} characters.`
              : 'Enter to send · Shift+Enter for a new line'}
          </p>
        </form>
      </main>
      <ExportToasts currentChatId={chatId} />
    </div>
  );
}
