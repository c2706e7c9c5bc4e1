/** A cab's QR codes on a print sheet: each image with its id and the cab under it. */
import { Layout } from '../components/Layout';
import { Notice } from '../components/ui';
import { href, type Route } from '../router';
import { useConsole } from '../store';

export function QrSheet({ route, cabId }: { route: Route; cabId: string }) {
  const cab = useConsole((s) => s.cabs.get(cabId));
  return (
    <Layout
      route={route}
      title={
        <span className="title-with-badge">
          <a className="crumb" href={href.cab(cabId)}>
            <span className="mono">{cabId}</span>
          </a>
          <span className="crumb-sep" aria-hidden="true">
            /
          </span>
          QR codes
        </span>
      }
      actions={
        cab && cab.qrCodes.length > 0 ? (
          <button type="button" className="btn btn-primary" onClick={() => window.print()}>
            Print
          </button>
        ) : null
      }
    >
      {!cab ? (
        <p className="empty">Loading…</p>
      ) : cab.qrCodes.length === 0 ? (
        <Notice kind="info">This cab has no QR codes. Give it some with npm run fleet -- add {cabId} --qr &lt;code&gt;.</Notice>
      ) : (
        <section className="qr-sheet" aria-label="Print sheet">
          {cab.qrCodes.map((code) => (
            <figure className="qr-tile" key={code}>
              <img src={`/console/api/cabs/${encodeURIComponent(cabId)}/qr/${encodeURIComponent(code)}`} alt={`QR code ${code}`} width={240} height={240} />
              <figcaption>
                <span className="mono qr-id">{code}</span>
                <span className="qr-cab">
                  {cab.label} · {cab.plate}
                </span>
              </figcaption>
            </figure>
          ))}
        </section>
      )}
    </Layout>
  );
}
