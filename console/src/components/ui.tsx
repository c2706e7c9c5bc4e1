/** Small pieces the pages share: status badges, the confirm dialog, a ticking clock, notices. */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { Cab } from '../api';

export function StatusBadge({ cab }: { cab: Cab }) {
  if (!cab.enabled) return <span className="badge badge-disabled">Disabled</span>;
  return cab.online ? <span className="badge badge-online">Online</span> : <span className="badge badge-offline">Offline</span>;
}

/** Re-renders every `everyMs` so "2 min ago" stays true. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function Notice({ kind, children }: { kind: 'error' | 'info' | 'success'; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/**
 * A modal confirmation (native <dialog>: focus is trapped, Escape cancels). With `typeToConfirm`
 * the confirm button stays off until that text is typed.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  typeToConfirm?: string;
  busy?: boolean;
  /** Only the confirm button (a dialog that shows something once). */
  hideCancel?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [typed, setTyped] = useState('');
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setTyped('');
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const ready = !props.typeToConfirm || typed === props.typeToConfirm;
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onCancel={props.onCancel}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready && !props.busy) props.onConfirm();
        }}
      >
        <h2 id={titleId}>{props.title}</h2>
        <div className="dialog-body">{props.children}</div>
        {props.typeToConfirm ? (
          <label className="field">
            <span>
              Type <strong>{props.typeToConfirm}</strong> to confirm
            </span>
            <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} />
          </label>
        ) : null}
        <div className="dialog-actions">
          {props.hideCancel ? null : (
            <button type="button" className="btn" onClick={props.onCancel}>
              Cancel
            </button>
          )}
          <button type="submit" className={props.danger ? 'btn btn-danger' : 'btn btn-primary'} disabled={!ready || props.busy}>
            {props.busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
