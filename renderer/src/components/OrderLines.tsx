import type { OrderLine } from '../../../protocol/relay-protocol.js';
import { useT } from '../hooks.js';
import { Money } from './Money.js';

/** Itemized lines; with `onRemove`, each line gets a remove button (extras while on a ride). */
export function OrderLines(props: { lines: OrderLine[]; currency: string; onRemove?: (line: OrderLine) => void }) {
  const t = useT();
  return (
    <ul className="order-lines">
      {props.lines.map((line) => {
        const label = line.kind === 'other' ? line.label : t(`line.${line.kind}`);
        return (
          <li key={line.id} className="order-line" data-testid="order-line" data-kind={line.kind}>
            <span className="order-line-label">{label}</span>
            <Money amount={line.amount} currency={props.currency} className="order-line-amount" />
            {props.onRemove ? (
              <button type="button" className="remove-line" aria-label={t('ride.remove', { label })} onClick={() => props.onRemove?.(line)}>
                <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
                  <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
                </svg>
              </button>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
