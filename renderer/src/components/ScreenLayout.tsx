import type { ReactNode } from 'react';
import { driverLocale, PaneLocale, useSnapshot } from '../hooks.js';
import { screenTestId, type ScreenName } from '../screen.js';
import { RefusedEventWarning } from './RefusedEventWarning.js';

/**
 * Landscape split: the driver's controls on the left (the driver's side in left-hand-drive
 * cars), the passenger's view (QR, amounts) on the right. `wide` gives the passenger more room
 * (the tip picker, the dynamic QR with its amounts beside it).
 */
export function ScreenLayout(props: { screen: ScreenName; driver: ReactNode; passenger: ReactNode; wide?: boolean }) {
  const snapshot = useSnapshot();
  const driver = driverLocale(snapshot);
  return (
    <main className={`screen screen-${props.screen} ${props.wide ? 'screen-wide-passenger' : ''}`} data-testid={screenTestId(props.screen)}>
      <PaneLocale.Provider value={driver}>
        <section className="pane pane-driver" lang={driver}>
          <RefusedEventWarning />
          {props.driver}
        </section>
      </PaneLocale.Provider>
      <PaneLocale.Provider value={snapshot.locale}>
        <section className="pane pane-passenger" lang={snapshot.locale}>
          {props.passenger}
        </section>
      </PaneLocale.Provider>
    </main>
  );
}
