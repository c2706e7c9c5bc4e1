import { run } from '../commands.js';
import { CabIdentity } from '../components/CabIdentity.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { useT } from '../hooks.js';

export function CanceledScreen() {
  const t = useT();
  return (
    <ScreenLayout
      screen="canceled"
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{t('canceled.title')}</h1>
          <p className="hint">{t('canceled.body')}</p>
          <div className="grow" />
          <button
            type="button"
            className="button button-primary button-huge"
            data-testid="dismiss"
            onClick={() => void run((api) => api.dismiss())}
          >
            {t('common.done')}
          </button>
          <StartNextRide />
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <CabIdentity heading={t('idle.scanToPay')} />
        </div>
      }
    />
  );
}
