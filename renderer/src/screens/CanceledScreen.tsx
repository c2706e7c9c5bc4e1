import { run } from '../commands.js';
import { CabIdentity } from '../components/CabIdentity.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { StartNextRide } from '../components/StartNextRide.js';
import { useDriverT, useT } from '../hooks.js';

export function CanceledScreen() {
  const t = useT();
  const dt = useDriverT();
  return (
    <ScreenLayout
      screen="canceled"
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{dt('canceled.title')}</h1>
          <p className="hint">{dt('canceled.body')}</p>
          <div className="grow" />
          <button type="button" className="button button-primary button-huge" data-testid="dismiss" onClick={() => void run((api) => api.dismiss())}>
            {dt('common.done')}
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
