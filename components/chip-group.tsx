'use client';

import type { KeyboardEvent, ReactNode } from 'react';

/** Left/Right (and Up/Down) move focus between a group's chips; Home and End jump to the ends. Tab still leaves the group. */
function moveFocus(event: KeyboardEvent<HTMLDivElement>) {
  const chips = Array.from(event.currentTarget.querySelectorAll<HTMLElement>('button:not(:disabled), a[href]'));
  const current = chips.indexOf(document.activeElement as HTMLElement);
  if (current === -1 || chips.length < 2) return;
  const next: Record<string, number> = {
    ArrowRight: (current + 1) % chips.length,
    ArrowDown: (current + 1) % chips.length,
    ArrowLeft: (current - 1 + chips.length) % chips.length,
    ArrowUp: (current - 1 + chips.length) % chips.length,
    Home: 0,
    End: chips.length - 1,
  };
  const target = next[event.key];
  if (target === undefined) return;
  event.preventDefault();
  chips[target]?.focus();
}

export function ChipGroup({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a row of chips, not a form: a fieldset would bring a form's semantics and styling
    <div className="chips" role="group" aria-label={label} onKeyDown={moveFocus}>
      {children}
    </div>
  );
}
