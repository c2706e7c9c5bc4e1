import type { Locale } from '../../../protocol/kiosk-api.js';

/** Simple inline flags (emoji flags do not render on every platform). Greyed in night mode by CSS. */
export function Flag(props: { locale: Locale }) {
  switch (props.locale) {
    case 'sv':
      return (
        <svg className="flag" viewBox="0 0 16 10" aria-hidden="true">
          <rect width="16" height="10" fill="#006aa7" />
          <rect x="5" width="2" height="10" fill="#fecc00" />
          <rect y="4" width="16" height="2" fill="#fecc00" />
        </svg>
      );
    case 'fi':
      return (
        <svg className="flag" viewBox="0 0 18 11" aria-hidden="true">
          <rect width="18" height="11" fill="#ffffff" />
          <rect x="5" width="3" height="11" fill="#002f6c" />
          <rect y="4" width="18" height="3" fill="#002f6c" />
        </svg>
      );
    case 'da':
      return (
        <svg className="flag" viewBox="0 0 37 28" aria-hidden="true">
          <rect width="37" height="28" fill="#c8102e" />
          <rect x="12" width="4" height="28" fill="#ffffff" />
          <rect y="12" width="37" height="4" fill="#ffffff" />
        </svg>
      );
    case 'nb':
      return (
        <svg className="flag" viewBox="0 0 22 16" aria-hidden="true">
          <rect width="22" height="16" fill="#ba0c2f" />
          <rect x="6" width="4" height="16" fill="#ffffff" />
          <rect y="6" width="22" height="4" fill="#ffffff" />
          <rect x="7" width="2" height="16" fill="#00205b" />
          <rect y="7" width="22" height="2" fill="#00205b" />
        </svg>
      );
    case 'en':
      return (
        <svg className="flag" viewBox="0 0 60 30" aria-hidden="true">
          <rect width="60" height="30" fill="#012169" />
          <path d="M0,0 L60,30 M60,0 L0,30" stroke="#ffffff" strokeWidth="6" />
          <path d="M0,0 L60,30 M60,0 L0,30" stroke="#c8102e" strokeWidth="2" />
          <path d="M30,0 v30 M0,15 h60" stroke="#ffffff" strokeWidth="10" />
          <path d="M30,0 v30 M0,15 h60" stroke="#c8102e" strokeWidth="6" />
        </svg>
      );
  }
}
