/** The QR must stay on screen: keep the display awake while the kiosk runs. */
import { powerSaveBlocker } from 'electron';

export function keepDisplayAwake(): () => void {
  const id = powerSaveBlocker.start('prevent-display-sleep');
  return () => {
    if (powerSaveBlocker.isStarted(id)) powerSaveBlocker.stop(id);
  };
}
