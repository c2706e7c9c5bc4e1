import { useEffect, type ComponentType, type CSSProperties } from 'react';
import { AttentionDialog } from './components/AttentionDialog.js';
import { SettingsDialog } from './components/SettingsDialog.js';
import { ErrorToast } from './components/ErrorToast.js';
import { Header } from './components/Header.js';
import { OfflineBanner } from './components/OfflineBanner.js';
import { driverLocale, PaneLocale, useNow } from './hooks.js';
import { translate } from './i18n/index.js';
import { screenFor, type ScreenName } from './screen.js';
import { AwaitingPaymentScreen } from './screens/AwaitingPaymentScreen.js';
import { CanceledScreen } from './screens/CanceledScreen.js';
import { EndedScreen } from './screens/EndedScreen.js';
import { FailedScreen } from './screens/FailedScreen.js';
import { IdleScreen } from './screens/IdleScreen.js';
import { OnRideScreen } from './screens/OnRideScreen.js';
import { PaidScreen } from './screens/PaidScreen.js';
import { useUi } from './state.js';
import { effectiveTheme } from './theme.js';

const screens: Record<ScreenName, ComponentType> = {
  idle: IdleScreen,
  on_ride: OnRideScreen,
  ended: EndedScreen,
  awaiting_payment: AwaitingPaymentScreen,
  paid: PaidScreen,
  failed: FailedScreen,
  canceled: CanceledScreen,
};

export function App() {
  const snapshot = useUi((ui) => ui.snapshot);
  const now = useNow(60_000);
  const theme = effectiveTheme(snapshot?.theme ?? 'auto', now, snapshot?.location ?? null);
  const locale = snapshot?.locale ?? 'en';
  const settingsOpen = useUi((ui) => ui.settingsOpen);
  const attentionOpen = useUi((ui) => ui.attentionOpen);

  // Theme and language live on <html> so the whole document, dialogs included, follows.
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.lang = locale;
  }, [theme, locale]);

  if (!snapshot) {
    return (
      <div className="loading" role="status">
        {translate(locale, 'app.loading')}
        <ErrorToast />
      </div>
    );
  }
  const Screen = screens[screenFor(snapshot)];
  const driver = driverLocale(snapshot);
  // The brightness hint dims the driver's controls; the passenger's QR keeps full contrast.
  const dim = { '--driver-brightness': `${snapshot.driver.brightness}%` } as CSSProperties;
  return (
    <div className="app" style={dim}>
      <PaneLocale.Provider value={driver}>
        <Header />
        <OfflineBanner />
      </PaneLocale.Provider>
      <Screen />
      {attentionOpen && !settingsOpen ? <AttentionDialog /> : null}
      {settingsOpen ? <SettingsDialog /> : null}
      <ErrorToast />
    </div>
  );
}
