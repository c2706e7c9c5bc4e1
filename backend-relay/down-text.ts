/** What the payer's app shows when the cab cannot take the payment (Hips 412 down_response_text). */
import type { Locale } from '../protocol/kiosk-api.js';

const DOWN_TEXT: Record<Locale, string> = {
  en: 'This taxi cannot take QR payments right now. Please pay the driver another way.',
  sv: 'Den här taxin kan inte ta emot QR-betalningar just nu. Betala föraren på annat sätt.',
  nb: 'Denne taxien kan ikke ta imot QR-betaling akkurat nå. Betal sjåføren på en annen måte.',
  da: 'Denne taxa kan ikke modtage QR-betalinger lige nu. Betal chaufføren på en anden måde.',
  fi: 'Tämä taksi ei voi ottaa vastaan QR-maksuja juuri nyt. Maksa kuljettajalle muulla tavalla.',
};

export function downResponseText(locale: Locale): string {
  return DOWN_TEXT[locale];
}
