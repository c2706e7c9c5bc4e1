import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { DriverSettings, ExtraPreset, ThemeSetting } from '../../../protocol/kiosk-api.js';
import { currencyDigits } from '../../../protocol/money.js';
import { run } from '../commands.js';
import { driverLocale, PaneLocale, useLocale, useNow, useSnapshot, useT } from '../hooks.js';
import { formatDuration, formatTime, localeChoices } from '../i18n/index.js';
import { useUi } from '../state.js';
import { RefundsPanel } from './RefundsPanel.js';

/**
 * The driver's settings behind the PIN. The PIN goes to the core, which checks it and opens the
 * settings for a short while; this dialog only shows what the snapshot says.
 */
export function SettingsDialog() {
  const snapshot = useSnapshot();
  const close = () => {
    if (snapshot.driver.settings === 'unlocked') void run((api) => api.lockSettings());
    useUi.getState().setSettingsOpen(false);
  };
  const locale = driverLocale(snapshot);
  return (
    <PaneLocale.Provider value={locale}>
      <div className="dialog-backdrop" lang={locale}>
        <div className="dialog settings-dialog" role="dialog" aria-modal="true" aria-labelledby="settings-title" data-testid="settings-dialog">
          {snapshot.driver.settings === 'unlocked' ? <Unlocked onClose={close} /> : <PinPad onClose={close} />}
        </div>
      </div>
    </PaneLocale.Provider>
  );
}

function PinPad(props: { onClose(): void }) {
  const { driver } = useSnapshot();
  const t = useT();
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => closeRef.current?.focus(), []);
  const lockedOut = driver.settings === 'locked_out';
  const press = (digit: string) => setPin((p) => (p.length < 12 ? p + digit : p));
  const submit = async () => {
    setBusy(true);
    await run((api) => api.unlockSettings(pin));
    setPin('');
    setBusy(false);
  };
  return (
    <>
      <h2 id="settings-title">{t('settings.pinTitle')}</h2>
      {driver.settings === 'unavailable' ? (
        <p data-testid="settings-unavailable">{t('settings.unavailable')}</p>
      ) : (
        <>
          {lockedOut && driver.lockedUntil ? <LockedOut until={driver.lockedUntil} /> : null}
          <div className="pin-dots" data-testid="pin-dots" aria-live="polite">
            <span className="visually-hidden">{t('settings.pinDigits', { n: pin.length })}</span>
            <span aria-hidden="true">{'•'.repeat(pin.length) || '\u00a0'}</span>
          </div>
          <div className="keypad pin-keypad" role="group" aria-label={t('settings.pinTitle')}>
            {['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].map((digit) => (
              <button key={digit} type="button" className="key" data-testid={`pin-${digit}`} disabled={lockedOut} onClick={() => press(digit)}>
                {digit}
              </button>
            ))}
            <button type="button" className="key" data-testid="pin-back" aria-label={t('key.back')} onClick={() => setPin((p) => p.slice(0, -1))}>
              ⌫
            </button>
          </div>
        </>
      )}
      <div className="dialog-actions">
        <button type="button" ref={closeRef} className="button button-secondary" data-testid="settings-close" onClick={props.onClose}>
          {t('settings.close')}
        </button>
        {driver.settings === 'unavailable' ? null : (
          <button
            type="button"
            className="button button-primary"
            data-testid="pin-submit"
            disabled={busy || lockedOut || pin.length < 4}
            onClick={() => void submit()}
          >
            {t('settings.unlock')}
          </button>
        )}
      </div>
    </>
  );
}

/** How long the PIN pad stays locked, counting down (the core lifts the lock when it ends). */
function LockedOut(props: { until: string }) {
  const t = useT();
  const locale = useLocale();
  const now = useNow(1_000);
  const left = Math.max(0, Date.parse(props.until) - now.getTime());
  // Time left is rounded up: "5 minutes" until the last of them has started.
  const unit = left >= 60_000 ? 60_000 : 1_000;
  return (
    <p className="notice notice-warning" data-testid="pin-locked-out" role="status">
      {t('settings.lockedOut', { duration: formatDuration(Math.ceil(left / unit) * unit, locale), time: formatTime(props.until, locale) })}
    </p>
  );
}

type Tab = 'settings' | 'refunds';

/** Unlocked: the settings form, or the refunds of recent rides; one tab at a time. */
function Unlocked(props: { onClose(): void }) {
  const [tab, setTab] = useState<Tab>('settings');
  const t = useT();
  const tabs = (
    <div className="segmented settings-tabs" role="tablist">
      {(['settings', 'refunds'] as const).map((name) => (
        <button key={name} type="button" role="tab" aria-selected={tab === name} data-testid={`settings-tab-${name}`} onClick={() => setTab(name)}>
          {name === 'settings' ? t('settings.tabSettings') : t('settings.tabRefunds')}
        </button>
      ))}
    </div>
  );
  if (tab === 'settings') return <SettingsForm onClose={props.onClose} tabs={tabs} />;
  return (
    <div className="settings-form settings-refunds">
      <div className="settings-head">
        <h2 id="settings-title">{t('settings.title')}</h2>
        {tabs}
      </div>
      <RefundsPanel />
      <div className="dialog-actions dialog-actions-single">
        <button type="button" className="button button-secondary" data-testid="settings-lock" onClick={props.onClose}>
          {t('settings.lock')}
        </button>
      </div>
    </div>
  );
}

const EXTRA_KINDS = ['toll', 'airport_fee', 'luggage', 'booking_fee'] as const;
const THEMES: ThemeSetting[] = ['auto', 'day', 'night'];

function toMajor(minor: number, digits: number, locale: string): string {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false }).format(minor / 10 ** digits);
}
/** "45", "45,5" or "45.50" → minor units; null when it is not a positive amount. */
function parseMajor(text: string, digits: number): number | null {
  const normalized = text.trim().replace(',', '.');
  if (!/^\d{1,7}(\.\d{0,2})?$/.test(normalized)) return null;
  const minor = Math.round(Number(normalized) * 10 ** digits);
  return minor > 0 ? minor : null;
}

function SettingsForm(props: { onClose(): void; tabs: ReactNode }) {
  const snapshot = useSnapshot();
  const t = useT();
  const paneLocale = useLocale();
  const digits = currencyDigits(snapshot.currency);
  const [locale, setLocale] = useState(snapshot.driver.locale);
  const [theme, setTheme] = useState<ThemeSetting>(snapshot.theme);
  const [brightness, setBrightness] = useState(snapshot.driver.brightness);
  const [driverId, setDriverId] = useState(snapshot.driver.driverId ?? '');
  const [extras, setExtras] = useState(() =>
    EXTRA_KINDS.map((kind) => {
      const preset = snapshot.extras.find((e) => e.kind === kind);
      return { kind, amount: preset ? toMajor(preset.amountMinor, digits, paneLocale) : '', vat: String(preset?.vatRate ?? 6) };
    }),
  );
  const [invalid, setInvalid] = useState(false);

  const save = async () => {
    const presets: ExtraPreset[] = [];
    for (const e of extras) {
      if (e.amount.trim() === '') continue; // an empty amount removes the button
      const amountMinor = parseMajor(e.amount, digits);
      const vatRate = Number(e.vat);
      if (amountMinor === null || !Number.isInteger(vatRate) || vatRate < 0 || vatRate > 100) {
        setInvalid(true);
        return;
      }
      presets.push({ kind: e.kind, amountMinor, vatRate });
    }
    setInvalid(false);
    const settings: DriverSettings = { locale, theme, brightness, driverId: driverId.trim() === '' ? null : driverId.trim(), extras: presets };
    // Saved: lock and close, so the settings never stay open on a passenger's screen.
    if (await run((api) => api.saveDriverSettings(settings))) props.onClose();
  };

  return (
    <form
      className="settings-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <div className="settings-head">
        <h2 id="settings-title">{t('settings.title')}</h2>
        {props.tabs}
      </div>
      <div className="settings-column">
        <fieldset>
          <legend>{t('settings.language')}</legend>
          <div className="segmented">
            <button type="button" aria-pressed={locale === null} data-testid="driver-locale-follow" onClick={() => setLocale(null)}>
              {t('settings.languageFollow')}
            </button>
            {localeChoices.map((choice) => (
              <button
                key={choice.code}
                type="button"
                lang={choice.code}
                aria-pressed={locale === choice.code}
                data-testid={`driver-locale-${choice.code}`}
                onClick={() => setLocale(choice.code)}
              >
                {choice.name}
              </button>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('settings.theme')}</legend>
          <div className="segmented">
            {THEMES.map((mode) => (
              <button key={mode} type="button" aria-pressed={theme === mode} data-testid={`settings-theme-${mode}`} onClick={() => setTheme(mode)}>
                {t(`theme.${mode}`)}
              </button>
            ))}
          </div>
          {snapshot.location ? <p className="hint">{t('settings.autoHint')}</p> : null}
        </fieldset>
        <div className="settings-row">
          <label htmlFor="settings-brightness">{t('settings.brightness')}</label>
          <input
            id="settings-brightness"
            data-testid="settings-brightness"
            type="range"
            min={10}
            max={100}
            step={10}
            value={brightness}
            onChange={(e) => setBrightness(Number(e.target.value))}
          />
          <output htmlFor="settings-brightness">{brightness} %</output>
        </div>
        <div className="settings-row">
          <label htmlFor="settings-driver-id">{t('settings.driverId')}</label>
          <input
            id="settings-driver-id"
            data-testid="settings-driver-id"
            type="text"
            maxLength={40}
            autoComplete="off"
            value={driverId}
            onChange={(e) => setDriverId(e.target.value)}
          />
        </div>
      </div>
      <fieldset>
        <legend>{t('settings.extras')}</legend>
        <div className="extras-table">
          {extras.map((e, i) => {
            const label = t(`line.${e.kind}`);
            const update = (patch: Partial<typeof e>) => setExtras((list) => list.map((x, j) => (j === i ? { ...x, ...patch } : x)));
            return (
              <div key={e.kind} className="extras-row">
                <span className="extras-name">{label}</span>
                <input
                  aria-label={t('settings.amount', { label })}
                  data-testid={`settings-extra-${e.kind}-amount`}
                  type="text"
                  inputMode="decimal"
                  value={e.amount}
                  onChange={(ev) => update({ amount: ev.target.value })}
                />
                <span className="extras-currency" aria-hidden="true">
                  {snapshot.currency}
                </span>
                <input
                  aria-label={t('settings.vat', { label })}
                  data-testid={`settings-extra-${e.kind}-vat`}
                  type="text"
                  inputMode="numeric"
                  value={e.vat}
                  onChange={(ev) => update({ vat: ev.target.value })}
                />
                <span aria-hidden="true">%</span>
              </div>
            );
          })}
        </div>
      </fieldset>
      {invalid ? (
        <p className="notice notice-warning" role="alert">
          {t('settings.invalid')}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button button-secondary" data-testid="settings-lock" onClick={props.onClose}>
          {t('settings.lock')}
        </button>
        <button type="submit" className="button button-primary" data-testid="settings-save">
          {t('settings.save')}
        </button>
      </div>
    </form>
  );
}
