/** Log in with an operator name and password; a locked or wrong login says so. */
import { useState } from 'react';
import { api, ApiError, setCsrfToken, type SessionInfo } from '../api';
import { Notice } from '../components/ui';
import { useConsole } from '../store';

export function Login() {
  const message = useConsole((s) => s.loggedOutMessage);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const session = await api<SessionInfo>('POST', '/login', { name: name.trim(), password });
      setCsrfToken(session.csrfToken);
      useConsole.getState().setSession(session);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Logging in failed; try again.');
      setPassword('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth">
      <form
        className="auth-card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="brand brand-center">
          <span className="brand-mark" aria-hidden="true">
            c
          </span>
          <span>cabpay</span>
        </div>
        <h1>Log in to the fleet console</h1>
        {message && !error ? <Notice kind="info">{message}</Notice> : null}
        {error ? <Notice kind="error">{error}</Notice> : null}
        <label className="field">
          <span>Operator name</span>
          <input name="username" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </label>
        <label className="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button className="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p className="hint">
          No account yet? An admin adds you with <code>npm run fleet -- operator add</code>.
        </p>
      </form>
    </main>
  );
}
