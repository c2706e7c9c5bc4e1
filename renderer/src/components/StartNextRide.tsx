import { run } from '../commands.js';
import { useT } from '../hooks.js';

/** Nothing blocks the next ride: the unfinished one stays pending in the core. */
export function StartNextRide(props: { primary?: boolean }) {
  const t = useT();
  return (
    <button
      type="button"
      className={`button ${props.primary ? 'button-primary' : 'button-secondary'}`}
      data-testid="start-ride"
      onClick={() => void run((api) => api.startRide())}
    >
      {t('common.startNextRide')}
    </button>
  );
}
