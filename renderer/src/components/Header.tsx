import { localeChoices } from '../i18n/index.js';
import { run } from '../commands.js';
import { useSnapshot, useT } from '../hooks.js';
import { useUi } from '../state.js';
import { nextThemeSetting } from '../theme.js';
import { AttentionChip } from './AttentionChip.js';
import { Flag } from './Flag.js';

export function Header() {
  const snapshot = useSnapshot();
  const t = useT();
  const { cab, connectivity, locale, theme } = snapshot;
  return (
    <header className="header">
      <div className="header-cab">
        <span className="header-cab-name">{cab.label && cab.label !== cab.cabId ? cab.label : t('header.cab', { id: cab.cabId })}</span>
        <span className="header-plate">{cab.plate}</span>
      </div>
      <div className={`conn conn-${connectivity.relay}`} data-testid="connectivity" role="status">
        <span className="conn-dot" aria-hidden="true" />
        {t(`conn.${connectivity.relay}`)}
        {connectivity.insecure ? (
          <span className="conn-insecure" data-testid="connectivity-insecure">
            {' · '}
            {t('conn.insecure')}
          </span>
        ) : null}
      </div>
      <button
        type="button"
        className="settings-button"
        data-testid="open-settings"
        aria-label={t('settings.open')}
        onClick={() => useUi.getState().setSettingsOpen(true)}
      >
        <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M4 7h10M18 7h2M4 17h2M10 17h10" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          <circle cx="16" cy="7" r="2.5" fill="none" stroke="currentColor" strokeWidth="2" />
          <circle cx="8" cy="17" r="2.5" fill="none" stroke="currentColor" strokeWidth="2" />
        </svg>
      </button>
      <AttentionChip />
      <div className="header-spacer" />
      <nav className="locale-row" aria-label={t('header.language')}>
        {localeChoices.map((choice) => (
          <button
            key={choice.code}
            type="button"
            lang={choice.code}
            className={`locale-button ${choice.code === locale ? 'is-current' : ''}`}
            data-testid={`locale-${choice.code}`}
            aria-pressed={choice.code === locale}
            aria-label={choice.name}
            onClick={() => void run((api) => api.setLocale(choice.code))}
          >
            <Flag locale={choice.code} />
            <span className="locale-code">{choice.code.toUpperCase()}</span>
          </button>
        ))}
      </nav>
      <button
        type="button"
        className="theme-toggle"
        data-testid="theme-toggle"
        aria-label={t('theme.toggle', { mode: t(`theme.${theme}`) })}
        onClick={() => void run((api) => api.setTheme(nextThemeSetting(theme)))}
      >
        <ThemeIcon setting={theme} />
        <span>{t(`theme.${theme}`)}</span>
      </button>
    </header>
  );
}

function ThemeIcon(props: { setting: 'auto' | 'day' | 'night' }) {
  if (props.setting === 'day') {
    return (
      <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
        <circle cx="12" cy="12" r="5" fill="currentColor" />
        <path
          d="M12 1v3M12 20v3M1 12h3M20 12h3M4.2 4.2l2.1 2.1M17.7 17.7l2.1 2.1M4.2 19.8l2.1-2.1M17.7 6.3l2.1-2.1"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
        />
      </svg>
    );
  }
  if (props.setting === 'night') {
    return (
      <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M20 14.5A8.5 8.5 0 1 1 9.5 4a7 7 0 0 0 10.5 10.5z" fill="currentColor" />
      </svg>
    );
  }
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
      <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" strokeWidth="2" />
      <path d="M12 3a9 9 0 0 1 0 18z" fill="currentColor" />
    </svg>
  );
}
