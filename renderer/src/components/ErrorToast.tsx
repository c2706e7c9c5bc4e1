import { useEffect } from 'react';
import { useT } from '../hooks.js';
import { useUi } from '../state.js';

const TOAST_MS = 8_000;

/** A refused command's message, from the core, until closed or timed out. */
export function ErrorToast() {
  const toast = useUi((ui) => ui.toast);
  const close = useUi((ui) => ui.closeToast);
  const t = useT();
  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(close, TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast, close]);
  if (!toast) return null;
  return (
    <div className="toast" role="alert">
      <span className="toast-message" data-testid="error-toast">
        {toast.message}
      </span>
      <button type="button" className="toast-close" onClick={close}>
        {t('toast.close')}
      </button>
    </div>
  );
}
