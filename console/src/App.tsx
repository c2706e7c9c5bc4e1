/** Which page: the login, the password change a one-time password forces, or the console's pages. */
import { useEffect } from 'react';
import { api, setCsrfToken, whenLoggedOut, type Cab as CabView, type SessionInfo } from './api';
import { startLive, stopLive } from './live';
import { Audit } from './pages/Audit';
import { Cab } from './pages/Cab';
import { ChangePassword } from './pages/ChangePassword';
import { Fleet } from './pages/Fleet';
import { Login } from './pages/Login';
import { QrSheet } from './pages/QrSheet';
import { Layout } from './components/Layout';
import { Notice } from './components/ui';
import { href, useRoute } from './router';
import { useConsole } from './store';
import { roleAllows } from './api';

export function App() {
  const session = useConsole((s) => s.session);
  const route = useRoute();

  useEffect(() => {
    whenLoggedOut((message) => {
      stopLive();
      useConsole.getState().setSession(null, message);
    });
    api<SessionInfo>('GET', '/session').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        useConsole.getState().setSession(s);
      },
      () => useConsole.getState().setSession(null),
    );
  }, []);

  const ready = session && !session.operator.mustChangePassword;
  useEffect(() => {
    if (!ready) return;
    // The list at once; the live feed then keeps it current.
    api<{ cabs: CabView[] }>('GET', '/cabs').then(
      (res) => useConsole.getState().setCabs(res.cabs),
      () => {},
    );
    startLive();
  }, [ready]);

  if (session === undefined) return <p className="boot">Loading the console…</p>;
  if (session === null) return <Login />;
  if (session.operator.mustChangePassword) return <ChangePassword />;
  switch (route.page) {
    case 'fleet':
      return <Fleet route={route} />;
    case 'cab':
      return <Cab route={route} cabId={route.cabId} key={route.cabId} />;
    case 'qr':
      return <QrSheet route={route} cabId={route.cabId} />;
    case 'audit':
      if (roleAllows(session.operator.role, 'operator')) return <Audit route={route} />;
      break;
  }
  return (
    <Layout route={route} title="Page not found">
      <Notice kind="info">
        There is no such page here. <a href={href.fleet()}>Go to the cabs</a>
      </Notice>
    </Layout>
  );
}
