import { useState } from 'react';
import type { RecentPaymentView } from '../../../protocol/kiosk-api.js';
import { run } from '../commands.js';
import { useLocale, useSnapshot, useT } from '../hooks.js';
import { formatTime, money, type MessageKey, type Translate } from '../i18n/index.js';
import { digitsToMinor, pressKey } from '../keypad.js';
import { refundAllowed } from '../payment.js';
import { failureKey } from '../screen.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Keypad } from './Keypad.js';
import { Money } from './Money.js';

/** A refund to confirm: the ride and the amount in minor units. */
interface Pending {
  payment: RecentPaymentView;
  amount: number;
}

/**
 * Refunds in the PIN-protected settings: the recent paid rides, each refundable in full (one tap
 * and a confirmation) or in part (the keypad, at most what is still refundable). The core
 * queues the refund and the snapshot reports how it stands.
 */
export function RefundsPanel() {
  const { recentPayments } = useSnapshot();
  const t = useT();
  const [partialFor, setPartialFor] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Pending | null>(null);
  const locale = useLocale();
  const partial = recentPayments.find((p) => p.rideId === partialFor) ?? null;

  if (recentPayments.length === 0)
    return (
      <p className="hint" data-testid="refunds-empty">
        {t('refund.empty')}
      </p>
    );
  return (
    <div className="refunds" data-testid="refunds">
      {partial ? (
        <PartialRefund payment={partial} onBack={() => setPartialFor(null)} onSubmit={(amount) => setConfirm({ payment: partial, amount })} />
      ) : (
        <div className="refund-table" role="table">
          <div className="refund-row refund-head" role="row">
            <span role="columnheader">{t('refund.time')}</span>
            <span role="columnheader">{t('refund.total')}</span>
            <span role="columnheader">{t('refund.refunded')}</span>
            <span role="columnheader">{t('refund.status')}</span>
          </div>
          {recentPayments.map((payment) => (
            <div key={payment.rideId} className="refund-row" role="row" data-testid={`refund-row-${payment.rideId}`}>
              <span role="cell">{formatTime(payment.paidAt, locale)}</span>
              <Money amount={payment.totalAmount} currency={payment.currency} />
              <Money amount={payment.refundedAmount} currency={payment.currency} testId={`refund-refunded-${payment.rideId}`} />
              <RefundState payment={payment} />
              <div className="refund-actions">
                <button
                  type="button"
                  className="button button-secondary"
                  data-testid={`refund-full-${payment.rideId}`}
                  disabled={payment.refundableAmount === 0}
                  onClick={() => setConfirm({ payment, amount: payment.refundableAmount })}
                >
                  {t('refund.full')}
                </button>
                <button
                  type="button"
                  className="button button-secondary"
                  data-testid={`refund-partial-${payment.rideId}`}
                  disabled={payment.refundableAmount === 0}
                  onClick={() => setPartialFor(payment.rideId)}
                >
                  {t('refund.partial')}
                </button>
              </div>
            </div>
          ))}
        </div>
      )}
      {confirm ? (
        <ConfirmDialog
          title={t('refund.confirmTitle', { amount: money(confirm.amount, confirm.payment.currency, locale) })}
          body={t('refund.confirmBody')}
          confirmLabel={t('refund.confirm')}
          keepLabel={t('refund.keep')}
          confirmTestId="refund-confirm"
          onKeep={() => setConfirm(null)}
          onConfirm={() => {
            const { payment, amount } = confirm;
            setConfirm(null);
            setPartialFor(null);
            void run((api) => api.refundRide(payment.rideId, amount));
          }}
        />
      ) : null}
    </div>
  );
}

function PartialRefund(props: { payment: RecentPaymentView; onBack(): void; onSubmit(amount: number): void }) {
  const t = useT();
  const locale = useLocale();
  const [digits, setDigits] = useState('');
  const { payment } = props;
  const amount = digitsToMinor(digits);
  const over = amount > payment.refundableAmount;
  return (
    <div className="refund-partial" data-testid="refund-partial">
      <div className="refund-partial-side">
        <span className="amount-label">{t('refund.amount')}</span>
        <Money amount={amount} currency={payment.currency} testId="refund-amount" className={`amount-large ${over ? 'is-over' : ''}`} />
        <p className="hint">
          {formatTime(payment.paidAt, locale)} · <Money amount={payment.totalAmount} currency={payment.currency} />
        </p>
        {over ? (
          <p className="notice notice-warning" role="alert" data-testid="refund-over">
            {t('refund.overMax', { amount: money(payment.refundableAmount, payment.currency, locale) })}
          </p>
        ) : null}
        <div className="grow" />
        <button type="button" className="button button-secondary" data-testid="refund-back" onClick={props.onBack}>
          {t('refund.back')}
        </button>
        <button
          type="button"
          className="button button-primary"
          data-testid="refund-submit"
          disabled={!refundAllowed(amount, payment)}
          onClick={() => props.onSubmit(amount)}
        >
          {t('refund.submit', { amount: money(amount, payment.currency, locale) })}
        </button>
      </div>
      <Keypad className="refund-keypad" testIdPrefix="refund-key-" keyboard={false} onPress={(key) => setDigits((d) => pressKey(d, key))} />
    </div>
  );
}

/** How the latest refund on this ride stands, in the driver's words. */
function RefundState(props: { payment: RecentPaymentView }) {
  const { connectivity } = useSnapshot();
  const t = useT();
  const locale = useLocale();
  const { payment } = props;
  const refund = payment.refund;
  const text = refundStateText(payment, connectivity.relay === 'online', t, (amount) => money(amount, payment.currency, locale));
  return (
    <span
      role="cell"
      className={`refund-state refund-state-${refund?.state ?? 'none'}`}
      data-testid={`refund-state-${payment.rideId}`}
      data-state={refund?.state ?? ''}
    >
      {text}
    </span>
  );
}

export function refundStateText(payment: RecentPaymentView, online: boolean, t: Translate, fmt: (amount: number) => string): string {
  const refund = payment.refund;
  if (!refund) {
    if (payment.method === 'other') return t('refund.otherMethod');
    return payment.refundableAmount === 0 ? t('refund.none') : '';
  }
  const amount = fmt(refund.amount);
  switch (refund.state) {
    case 'queued':
      return online ? t('refund.queued', { amount }) : t('refund.waiting', { amount });
    case 'refunded':
      return t('refund.done', { amount });
    case 'failed': {
      const key: MessageKey | null = refund.failure ? failureKey(refund.failure.code) : null;
      return t('refund.failed', { amount, reason: key ? t(key) : (refund.failure?.message ?? t('failed.unknown')) });
    }
  }
}
