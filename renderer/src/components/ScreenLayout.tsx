import type { ReactNode } from 'react';
import { screenTestId, type ScreenName } from '../screen.js';

/**
 * Landscape split: the driver's controls on the left (the driver's side in left-hand-drive
 * cars), the passenger's view (QR, amounts) on the right.
 */
export function ScreenLayout(props: { screen: ScreenName; driver: ReactNode; passenger: ReactNode }) {
  return (
    <main className={`screen screen-${props.screen}`} data-testid={screenTestId(props.screen)}>
      <section className="pane pane-driver">{props.driver}</section>
      <section className="pane pane-passenger">{props.passenger}</section>
    </main>
  );
}
