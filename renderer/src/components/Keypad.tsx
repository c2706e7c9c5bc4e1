import { useEffect } from 'react';
import { keyFromKeyboard, type KeypadKey } from '../keypad.js';
import { useT } from '../hooks.js';
import { useUi } from '../state.js';

const rows: KeypadKey[][] = [
  ['1', '2', '3'],
  ['4', '5', '6'],
  ['7', '8', '9'],
  ['00', '0', 'back'],
];

/**
 * The keypad. By default it types the fare (its buffer is local UI state until the driver ends
 * the ride); with `onPress` it types into the caller's buffer (a custom tip, a refund amount),
 * with its own test-id prefix so two keypads never share ids.
 */
export function Keypad(props: { onPress?: (key: KeypadKey) => void; testIdPrefix?: string; keyboard?: boolean; className?: string } = {}) {
  const pressFare = useUi((ui) => ui.pressKey);
  const press = props.onPress ?? pressFare;
  const prefix = props.testIdPrefix ?? 'key-';
  const keyboard = props.keyboard ?? true;
  const t = useT();

  // A hardware keyboard works too; handy on the bench and in tests.
  useEffect(() => {
    if (!keyboard) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.target instanceof HTMLInputElement) return;
      const key = keyFromKeyboard(event.key);
      if (key) {
        event.preventDefault();
        press(key);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [press, keyboard]);

  return (
    <div className={`keypad ${props.className ?? ''}`} role="group">
      {rows.flat().map((key) => (
        <button
          key={key}
          type="button"
          className={`key key-${key}`}
          data-testid={`${prefix}${key}`}
          aria-label={key === 'back' ? t('key.back') : key}
          onClick={() => press(key)}
        >
          {key === 'back' ? <BackspaceIcon /> : key}
        </button>
      ))}
      <button type="button" className="key key-clear" data-testid={`${prefix}clear`} onClick={() => press('clear')}>
        {t('key.clear')}
      </button>
    </div>
  );
}

function BackspaceIcon() {
  return (
    <svg className="icon icon-lg" viewBox="0 0 24 24" aria-hidden="true">
      <path d="M8 5h12a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H8l-6-7z" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
      <path d="M11 9l6 6M17 9l-6 6" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
    </svg>
  );
}
