import QRCode from 'qrcode';
import { useMemo } from 'react';

/**
 * The cab's static QR as an SVG image: error correction M, the standard 4-module quiet zone,
 * black on white in both themes (scanners need the contrast; the CSS never inverts it).
 */
export function qrSvgDataUrl(content: string): string {
  let svg = '';
  QRCode.toString(content, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } }, (err, out) => {
    if (err) throw err;
    svg = out;
  });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function CabQr(props: { content: string; label: string; testId?: string; className?: string }) {
  const src = useMemo(() => qrSvgDataUrl(props.content), [props.content]);
  return <img className={props.className ?? 'cab-qr'} data-testid={props.testId ?? 'cab-qr'} src={src} alt={props.label} draggable={false} />;
}
