'use client';

import type { ChatAction, ChatOption } from '@/lib/chat-action';
import type { MessageMeta, MessagePayload } from '@/lib/chat-message';
import { EXPORT_FORMATS } from '@/lib/export-formats';
import { ExportProgressCard } from './export-progress';
import { ResultView } from './result-view';
import { ChipGroup } from './chip-group';
import styles from './chat-message.module.css';
import card from './export-card.module.css';

export interface ChatMessageData {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  payload: MessagePayload | null;
  meta: MessageMeta | null;
}

interface ChatMessageProps {
  message: ChatMessageData;
  onAction: (label: string, action: ChatAction) => void;
  busy: boolean;
}

function Choices({
  options,
  onAction,
  busy,
}: {
  options: ChatOption[];
  onAction: ChatMessageProps['onAction'];
  busy: boolean;
}) {
  return (
    <ChipGroup label="Choose one">
      {options.map((option, index) => (
        <button
          // biome-ignore lint/suspicious/noArrayIndexKey: a stored message's options never change order
          key={index}
          type="button"
          className="chip"
          disabled={busy}
          data-hint={option.description ?? undefined}
          aria-label={option.description ? `${option.label} — ${option.description}` : option.label}
          onClick={() => onAction(option.label, option.action)}
        >
          {option.label}
        </button>
      ))}
    </ChipGroup>
  );
}

/** Which path answered, what it cost, and the steps the model took, folded away until asked for. */
function AnswerSteps({ meta }: { meta: MessageMeta }) {
  if (meta.path !== 'model' && meta.steps.length === 0) return null;
  const tokens = meta.promptTokens + meta.completionTokens;
  const summary =
    meta.path === 'model'
      ? `Model · ${meta.modelCalls} ${meta.modelCalls === 1 ? 'call' : 'calls'}${tokens > 0 ? ` · ${tokens.toLocaleString('en-US')} tokens` : ''}`
      : 'Built-in parser';
  if (meta.steps.length === 0) return <p className={styles.meta}>{summary}</p>;
  return (
    <details className={styles.meta} data-steps>
      <summary>
        {summary} · {meta.steps.length} {meta.steps.length === 1 ? 'step' : 'steps'}
      </summary>
      <ol>
        {meta.steps.map((step, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a stored message's steps never change order
          <li key={index} data-ok={step.ok}>
            <span className={styles.stepTool}>{step.tool}</span> {step.detail && <code>{step.detail}</code>}{' '}
            <span>→ {step.outcome}</span>
          </li>
        ))}
      </ol>
    </details>
  );
}

export function ChatMessage({ message, onAction, busy }: ChatMessageProps) {
  const payload = message.payload;
  return (
    <div
      className={`${styles.message} ${message.role === 'user' ? styles.user : styles.assistant}${payload?.kind === 'error' ? ` ${styles.error}` : ''}`}
      data-message={message.role}
      data-kind={payload?.kind ?? 'text'}
    >
      <p data-message-text>{message.content}</p>
      {payload?.kind === 'result' && <ResultView result={payload} onAction={onAction} busy={busy} />}
      {payload?.kind === 'choice' && <Choices options={payload.options} onAction={onAction} busy={busy} />}
      {payload?.kind === 'export' && payload.delivery === 'file' && (
        <ExportProgressCard
          exportId={payload.exportId}
          label={payload.archive ? 'ZIP' : EXPORT_FORMATS[payload.format].label}
        />
      )}
      {payload?.kind === 'export' && payload.delivery === 'stream' && (
        <div className={card.card}>
          <span className={card.format} aria-hidden="true">
            {payload.archive ? 'ZIP' : EXPORT_FORMATS[payload.format].label}
          </span>
          <span className={card.files}>
            {payload.files.map((file) => `${file.position} · ${file.title}`).join(', ')}
          </span>
          <a className="chip" href={payload.downloadUrl} download>
            Download again
          </a>
        </div>
      )}
      {message.meta && <AnswerSteps meta={message.meta} />}
    </div>
  );
}
