import type { MessageKey } from '../i18n/index.js';
import { useSnapshot, useT } from '../hooks.js';

/**
 * The core refused an event from the payment service about this ride (it did not match the
 * ride: amount, currency, cab or payee). On the driver's side only: the passenger sees nothing.
 */
export function RefusedEventWarning() {
  const refused = useSnapshot().ride?.refusedEvent ?? null;
  const t = useT();
  if (!refused) return null;
  const body: MessageKey = refused.type === 'order.paid' ? 'refused.payment' : refused.type === 'payment.qr' ? 'refused.qr' : 'refused.other';
  return (
    <div className="notice notice-warning refused-event" role="alert" data-testid="refused-event" data-event-type={refused.type}>
      <strong>{t('refused.title')}</strong>
      <p>{t(body)}</p>
    </div>
  );
}
