/** The one-time password is replaced before anything else: the relay refuses every other page until then. */
import { useState } from 'react';
import { api, ApiError, type Operator } from '../api';
import { Notice } from '../components/ui';
import { useConsole } from '../store';

const MIN_LENGTH = 12;

export function ChangePassword() {
  const session = useConsole((s) => s.session)!;
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (next !== again) return setError('The two new passwords differ; type the same one twice.');
    setBusy(true);
    setError(null);
    try {
      const { operator } = await api<{ operator: Operator }>('POST', '/password', { current, next });
      useConsole.getState().setSession({ ...session, operator });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The password was not changed; try again.');
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
        <h1>Choose your password</h1>
        <p className="lead">
          Welcome, <strong>{session.operator.name}</strong>. You logged in with a one-time password; choose your own before you go on.
        </p>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <input type="text" name="username" autoComplete="username" value={session.operator.name} readOnly hidden />
        <label className="field">
          <span>One-time password</span>
          <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required autoFocus />
        </label>
        <div className="field">
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            minLength={MIN_LENGTH}
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
            aria-describedby="pw-rule"
          />
          <small id="pw-rule">At least {MIN_LENGTH} characters, without your operator name.</small>
        </div>
        <label className="field">
          <span>New password again</span>
          <input type="password" autoComplete="new-password" minLength={MIN_LENGTH} value={again} onChange={(e) => setAgain(e.target.value)} required />
        </label>
        <button className="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Set password and continue'}
        </button>
      </form>
    </main>
  );
}
