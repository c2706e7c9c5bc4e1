import { useEffect, useRef } from 'react';

/** A modal question with a safe default (the "keep" button gets the focus). */
export function ConfirmDialog(props: {
  title: string;
  body: string;
  confirmLabel: string;
  keepLabel: string;
  confirmTestId: string;
  onConfirm(): void;
  onKeep(): void;
}) {
  const keepRef = useRef<HTMLButtonElement>(null);
  useEffect(() => keepRef.current?.focus(), []);
  return (
    <div className="dialog-backdrop" onClick={props.onKeep}>
      <div className="dialog" role="alertdialog" aria-modal="true" aria-labelledby="dialog-title" onClick={(event) => event.stopPropagation()}>
        <h2 id="dialog-title">{props.title}</h2>
        <p>{props.body}</p>
        <div className="dialog-actions">
          <button type="button" ref={keepRef} className="button button-secondary" onClick={props.onKeep}>
            {props.keepLabel}
          </button>
          <button type="button" className="button button-danger" data-testid={props.confirmTestId} onClick={props.onConfirm}>
            {props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
