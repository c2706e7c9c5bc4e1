import { useState } from 'react';
import { maxTip } from '../../../protocol/money.js';
import { run } from '../commands.js';
import { useLocale, useSnapshot, useT } from '../hooks.js';
import { formatPercent, money } from '../i18n/index.js';
import { digitsToMinor, pressKey, type KeypadKey } from '../keypad.js';
import { tipAllowed, tipPresets } from '../payment.js';
import { Keypad } from './Keypad.js';
import { Money } from './Money.js';

type Choice = { kind: 'preset'; percent: number; amount: number } | { kind: 'custom' };

/**
 * The passenger picks a tip on the tablet (PSPs with tipOnTablet): presets with their amounts,
 * "No tip", or an amount of their own up to the cap. A choice only selects; "Pay …" sends it,
 * so a bump in the road never sends a tip nobody meant.
 */
export function TipPicker() {
  const snapshot = useSnapshot();
  const t = useT();
  const locale = useLocale();
  const [choice, setChoice] = useState<Choice | null>(null);
  const [customDigits, setCustomDigits] = useState('');
  const [sending, setSending] = useState(false);
  const ride = snapshot.ride;
  if (!ride) return null;
  const { orderAmount, currency } = ride;
  const cap = maxTip(orderAmount);
  const customAmount = digitsToMinor(customDigits);
  const tip = choice === null ? null : choice.kind === 'custom' ? customAmount : choice.amount;
  const overCap = tip !== null && !tipAllowed(tip, orderAmount);
  const total = orderAmount + (tip ?? 0);
  const presets = tipPresets(orderAmount).filter((p) => p.percent > 0);
  const isPreset = (percent: number) => choice?.kind === 'preset' && choice.percent === percent;

  const send = () => {
    if (tip === null || overCap) return;
    setSending(true);
    void run((api) => api.chooseTip(tip)).finally(() => setSending(false));
  };

  return (
    <div className="tip-picker" data-testid="tip-picker">
      <div className="tip-head">
        <h2 className="tip-title">{t('tip.title')}</h2>
        <p className="tip-base" data-testid="tip-base">
          {t('tip.base', { amount: money(orderAmount, currency, locale) })}
        </p>
      </div>
      {choice?.kind === 'custom' ? (
        <div className="tip-custom">
          <div className="tip-custom-row">
            <div className={`tip-custom-display ${overCap ? 'is-over' : ''}`}>
              <span className="amount-label">{t('tip.yourTip')}</span>
              <Money amount={customAmount} currency={currency} testId="tip-custom-amount" className="tip-custom-amount" />
            </div>
            <button type="button" className="button button-secondary" data-testid="tip-presets" onClick={() => setChoice(null)}>
              {t('tip.presets')}
            </button>
          </div>
          <Keypad className="tip-keypad" testIdPrefix="tip-key-" onPress={(key: KeypadKey) => setCustomDigits((digits) => pressKey(digits, key))} />
          {overCap ? (
            <p className="notice notice-warning tip-over" role="alert" data-testid="tip-over-cap">
              {t('tip.overCap', { amount: money(cap, currency, locale) })}
            </p>
          ) : null}
        </div>
      ) : (
        <div className="tip-options" role="group" aria-label={t('tip.title')}>
          <button
            type="button"
            className="tip-option tip-none"
            data-testid="tip-none"
            aria-pressed={isPreset(0)}
            onClick={() => setChoice({ kind: 'preset', percent: 0, amount: 0 })}
          >
            <span className="tip-option-main">{t('tip.none')}</span>
          </button>
          {presets.map((preset) => (
            <button
              key={preset.percent}
              type="button"
              className="tip-option"
              data-testid={`tip-option-${preset.percent}`}
              aria-pressed={isPreset(preset.percent)}
              onClick={() => setChoice({ kind: 'preset', ...preset })}
            >
              <span className="tip-option-main">{formatPercent(preset.percent, locale)}</span>
              <Money amount={preset.amount} currency={currency} testId={`tip-amount-${preset.percent}`} className="tip-option-amount" />
            </button>
          ))}
          <button type="button" className="tip-option" data-testid="tip-custom" onClick={() => setChoice({ kind: 'custom' })}>
            <span className="tip-option-main">{t('tip.custom')}</span>
          </button>
        </div>
      )}
      <div className="tip-summary">
        <span className="tip-summary-cell">
          <span className="amount-label">{t('paid.fare')}</span>
          <Money amount={orderAmount} currency={currency} />
        </span>
        <span className="tip-summary-cell">
          <span className="amount-label">{t('paid.tip')}</span>
          <Money amount={tip ?? 0} currency={currency} testId="tip-chosen" />
        </span>
        <span className="tip-summary-cell tip-summary-total">
          <span className="amount-label">{t('ride.total')}</span>
          <Money amount={total} currency={currency} testId="tip-total" className="tip-total" />
        </span>
      </div>
      <button
        type="button"
        className="button button-primary button-huge tip-confirm"
        data-testid="tip-confirm"
        disabled={tip === null || overCap || sending}
        onClick={send}
      >
        {tip === null ? t('tip.choose') : t('tip.confirm', { amount: money(total, currency, locale) })}
      </button>
    </div>
  );
}
