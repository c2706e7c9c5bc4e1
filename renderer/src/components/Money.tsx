import { money } from '../i18n/index.js';
import { useLocale } from '../hooks.js';

/** A formatted amount and nothing else, so tests and screen readers read just the amount. */
export function Money(props: { amount: number; currency: string; testId?: string; className?: string }) {
  const locale = useLocale();
  return (
    <span className={`money ${props.className ?? ''}`} data-testid={props.testId}>
      {money(props.amount, props.currency, locale)}
    </span>
  );
}
