import { useState } from 'react';
import { endRideWithFare, run } from '../commands.js';
import { CancelRide } from '../components/CancelRide.js';
import { Keypad } from '../components/Keypad.js';
import { Money } from '../components/Money.js';
import { OrderLines } from '../components/OrderLines.js';
import { PassengerReady } from '../components/PassengerReady.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { extraLines, runningTotal } from '../fare.js';
import { money } from '../i18n/index.js';
import { useLocale, useSnapshot, useDriverT, useT } from '../hooks.js';
import { digitsToMinor } from '../keypad.js';
import { passengerWaiting } from '../screen.js';
import { useUi } from '../state.js';

export function OnRideScreen() {
  const snapshot = useSnapshot();
  const t = useT();
  const dt = useDriverT();
  const locale = useLocale();
  const digits = useUi((ui) => ui.keypadDigits);
  const [ending, setEnding] = useState(false);
  const ride = snapshot.ride;
  if (!ride) return null;
  const currency = ride.currency;
  const fare = digitsToMinor(digits);
  const extras = extraLines(ride.lines);
  // The fleet's extras come from the driver settings in the core (amount and VAT per extra).
  const presets = snapshot.extras.filter((e) => e.kind !== 'other');
  const total = runningTotal(fare, ride.lines);

  return (
    <ScreenLayout
      screen="on_ride"
      driver={
        <div className="driver-stack on-ride">
          <div className="fare-row">
            <span className="fare-label">{dt('ride.fare')}</span>
            <Money amount={fare} currency={currency} testId="fare-display" className={`fare-display ${fare === 0 ? 'is-empty' : ''}`} />
          </div>
          <Keypad />
          {presets.length > 0 ? (
            <div className="extras" role="group" aria-label={dt('ride.extras')}>
              {presets.map(({ kind, amountMinor: amount }) => {
                const label = dt(`line.${kind}`);
                return (
                  <button
                    key={kind}
                    type="button"
                    className="button button-extra"
                    data-testid={`extra-${kind}`}
                    aria-label={dt('ride.addExtra', { label, amount: money(amount, currency, locale) })}
                    onClick={() => void run((api) => api.addExtra({ kind, amountMinor: amount, label }))}
                  >
                    <span className="extra-label">{label}</span>
                    <span className="extra-amount">{money(amount, currency, locale)}</span>
                  </button>
                );
              })}
            </div>
          ) : null}
          <div className="ride-actions">
            <CancelRide />
            <div className="end-ride-wrap">
              <button
                type="button"
                className="button button-primary"
                data-testid="end-ride"
                disabled={fare === 0 || ending}
                aria-describedby={fare === 0 ? 'end-ride-hint' : undefined}
                onClick={() => {
                  // One tap, one request: a second tap while the first runs would only be refused.
                  setEnding(true);
                  void endRideWithFare(fare).finally(() => setEnding(false));
                }}
              >
                {dt('ride.endRide')}
              </button>
            </div>
          </div>
          {fare === 0 ? (
            <p className="hint end-hint" id="end-ride-hint">
              {dt('ride.endHint')}
            </p>
          ) : null}
        </div>
      }
      passenger={
        <div className="passenger-stack">
          <h1 className="screen-title">{t('ride.title')}</h1>
          {passengerWaiting(snapshot) ? <PassengerReady /> : null}
          <div className="bill">
            <div className="order-line order-line-fare">
              <span className="order-line-label">{t('line.fare')}</span>
              <Money amount={fare} currency={currency} className="order-line-amount" />
            </div>
            <OrderLines lines={extras} currency={currency} onRemove={(line) => void run((api) => api.removeExtra(line.id))} />
            <div className="bill-total">
              <span>{t('ride.total')}</span>
              <Money amount={total} currency={currency} testId="running-total" className="total-amount" />
            </div>
          </div>
          {snapshot.cab.capabilities.staticQr ? null : (
            <p className="pay-at-end-inline" data-testid="pay-at-end">
              {t('qr.payAtEnd')} · {snapshot.cab.capabilities.displayName}
            </p>
          )}
        </div>
      }
    />
  );
}
