import { run } from '../commands.js';
import { CabIdentity, ScanCaption } from '../components/CabIdentity.js';
import { PassengerReady } from '../components/PassengerReady.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { useSnapshot, useDriverT, useT } from '../hooks.js';
import { passengerWaiting } from '../screen.js';

export function IdleScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  return (
    <ScreenLayout
      screen="idle"
      driver={
        <div className="driver-stack">
          <h1 className="screen-title">{dt('idle.title')}</h1>
          {passengerWaiting(snapshot) ? <PassengerReady /> : null}
          <p className="hint">{dt('idle.driverHint')}</p>
          <div className="grow" />
          <button type="button" className="button button-primary button-huge" data-testid="start-ride" onClick={() => void run((api) => api.startRide())}>
            {dt('idle.startRide')}
          </button>
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <CabIdentity heading={t('idle.scanToPay')} />
          {snapshot.cab.capabilities.staticQr && snapshot.cab.qrContent ? <ScanCaption /> : null}
        </div>
      }
    />
  );
}
