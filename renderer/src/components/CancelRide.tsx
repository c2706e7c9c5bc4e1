import { run } from '../commands.js';
import { useT } from '../hooks.js';
import { useUi } from '../state.js';
import { ConfirmDialog } from './ConfirmDialog.js';

/** "Cancel ride" always asks first: a mis-tap must not throw away a fare. */
export function CancelRide() {
  const t = useT();
  const open = useUi((ui) => ui.cancelDialogOpen);
  const setOpen = useUi((ui) => ui.setCancelDialogOpen);
  return (
    <>
      <button type="button" className="button button-secondary" data-testid="cancel-ride" onClick={() => setOpen(true)}>
        {t('ride.cancel')}
      </button>
      {open ? (
        <ConfirmDialog
          title={t('cancel.title')}
          body={t('cancel.body')}
          confirmLabel={t('cancel.confirm')}
          keepLabel={t('cancel.keep')}
          confirmTestId="confirm-cancel"
          onKeep={() => setOpen(false)}
          onConfirm={() => {
            setOpen(false);
            void run((api) => api.cancelRide());
          }}
        />
      ) : null}
    </>
  );
}
