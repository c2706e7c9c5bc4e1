/**
 * `npm run fleet -- <command>`: the fleet registry from a terminal, over the admin HTTP API.
 *   add <cabId> --qr <code> [--qr …] --plate P --label L [--psp hips] [--currency SEK] [--disabled] [--keep-token]
 *   list | rotate-token <cabId> | remove <cabId>
 *   operator <add|list|reset-password|disable|enable> …   (console accounts)
 * Options: --relay URL (or RELAY_URL), --token T (or RELAY_ADMIN_TOKEN), --json.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { cabId, pspName } from '../protocol/relay-protocol.js';
import { terminalField as safe, terminalJson, terminalText } from '../protocol/terminal-text.js';
import { runReleaseCli, type ReleaseCliDeps } from './updates/release-cli.js';
import { zodIssuesText } from '../protocol/zod-issues.js';
import { runOperatorCli } from './console/operator-cli.js';

const USAGE = `usage: npm run fleet -- <command> [options]
  add <cabId> --qr <code> [--qr <code>…] --plate <plate> --label <label> [--psp hips|vipps|hitpay] [--currency <ISO 4217>] [--disabled] [--keep-token]
      (on an existing cab: updates it and issues a new device token, unless --keep-token;
       --currency: what the cab charges in, one its PSP takes; unset: kept, or the PSP's default)
  list
  rotate-token <cabId>
  remove <cabId>
  release <publish|upload|list|status|rollout|promote|pause|resume|pin|unpin|keygen|sign|rotate> …   (release --help)
  operator <add|list|reset-password|disable|enable> …   (fleet console accounts; operator --help)
options: --relay <url> (env RELAY_URL), --token <admin token> (env RELAY_ADMIN_TOKEN), --json`;

const connection = z.object({
  relay: z.url({ error: 'the relay URL is missing or invalid: pass --relay http://host:port or set RELAY_URL' }),
  token: z.string({ error: 'the admin token is missing: pass --token or set RELAY_ADMIN_TOKEN' }).min(16, 'the admin token must be at least 16 characters'),
  json: z.boolean(),
});

const command = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('add'),
    cabId,
    qr: z.array(z.string().min(1).max(200)).min(1, 'give at least one --qr <code> (the cab’s QR code id at the PSP)'),
    plate: z.string({ error: '--plate is required' }).min(1).max(20),
    label: z.string({ error: '--label is required' }).min(1).max(40),
    psp: pspName.default('hips'),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, '--currency takes an ISO 4217 code such as SGD')
      .transform((c) => c.toUpperCase())
      .optional(),
    disabled: z.boolean().default(false),
    keepToken: z.boolean().default(false),
  }),
  z.object({ name: z.literal('list') }),
  z.object({ name: z.literal('rotate-token'), cabId }),
  z.object({ name: z.literal('remove'), cabId }),
]);
type Command = z.infer<typeof command>;

export class CliError extends Error {
  override name = 'CliError';
}

function describe(error: z.ZodError): string {
  return zodIssuesText(error, { root: '' });
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): { conn: z.infer<typeof connection>; cmd: Command } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        relay: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        qr: { type: 'string', multiple: true },
        plate: { type: 'string' },
        label: { type: 'string' },
        psp: { type: 'string' },
        currency: { type: 'string' },
        disabled: { type: 'boolean' },
        'keep-token': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) throw new CliError(USAGE);
  const [name, id, ...extra] = positionals;
  if (extra.length) throw new CliError(`unexpected arguments: ${extra.join(' ')}\n${USAGE}`);
  const conn = connection.safeParse({ relay: values.relay ?? env.RELAY_URL, token: values.token ?? env.RELAY_ADMIN_TOKEN, json: values.json });
  if (!conn.success) throw new CliError(describe(conn.error));
  const cmd = command.safeParse({
    name,
    cabId: id,
    qr: values.qr ?? [],
    plate: values.plate,
    label: values.label,
    psp: values.psp,
    currency: values.currency,
    disabled: values.disabled,
    keepToken: values['keep-token'],
  });
  if (!cmd.success) {
    const unknown = cmd.error.issues.some((i) => i.path[0] === 'name');
    throw new CliError(unknown ? `unknown command "${name}"\n${USAGE}` : `${name}: ${describe(cmd.error)}`);
  }
  return { conn: conn.data, cmd: cmd.data };
}

async function call(conn: { relay: string; token: string }, method: string, route: string, body?: unknown, raw?: { body: Blob | Buffer; contentType: string }) {
  let res: Response;
  try {
    res = await fetch(new URL(route, conn.relay), {
      method,
      headers: {
        authorization: `Bearer ${conn.token}`,
        ...(raw ? { 'content-type': raw.contentType } : body ? { 'content-type': 'application/json' } : {}),
      },
      body: raw ? raw.body : body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new CliError(`cannot reach the relay at ${conn.relay} (${(err as Error).cause ?? (err as Error).message}); is it running?`);
  }
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text };
  }
  if (!res.ok) {
    const message = json?.error?.message ?? text;
    throw new CliError(`the relay answered ${res.status}: ${safe(message)}`);
  }
  return { status: res.status, json };
}

const releaseDeps: ReleaseCliDeps = {
  connect(values) {
    const conn = connection.safeParse(values);
    if (!conn.success) throw new CliError(describe(conn.error));
    return conn.data;
  },
  call,
  fail: (message) => new CliError(message),
};

/** Runs one command; returns what to print. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const first = parseArgs({ args: argv, strict: false, allowPositionals: true, options: { relay: { type: 'string' }, token: { type: 'string' } } })
    .positionals[0];
  if (first === 'release') return runReleaseCli(argv, env, releaseDeps);
  if (first === 'operator') return runOperatorCli(argv, env, releaseDeps);
  const { conn, cmd } = parseCli(argv, env);
  // Everything the relay answers is data from tablets, PSPs or operators: escaped field by field.
  const out = (json: unknown, text: string) => (conn.json ? terminalJson(json) : text);
  switch (cmd.name) {
    case 'add': {
      const body = {
        psp: cmd.psp,
        qrCodes: cmd.qr,
        plate: cmd.plate,
        label: cmd.label,
        enabled: !cmd.disabled,
        ...(cmd.currency ? { currency: cmd.currency } : {}),
      };
      const route = `/admin/cabs/${encodeURIComponent(cmd.cabId)}${cmd.keepToken ? '?keepToken=true' : ''}`;
      const { status, json } = await call(conn, 'PUT', route, body);
      // A PSP whose QR codes the relay provisions (Vipps, Hips) gives the content to print on the cab's QR;
      // one the relay cannot set up says what the fleet must do itself.
      const qr = `${json.qrContent ? `\nQR content (print this on the cab's QR): ${safe(json.qrContent)}` : ''}${json.notice ? `\nnote: ${safe(json.notice)}` : ''}`;
      if (status === 201)
        return out(json, `cab ${safe(json.cabId)} added.\ndevice token (shown once, put it in the kiosk config): ${safe(json.deviceToken)}${qr}`);
      return json.deviceToken
        ? out(json, `cab ${safe(json.cabId)} updated.\nnew device token (shown once; the old one no longer works): ${safe(json.deviceToken)}${qr}`)
        : out(json, `cab ${safe(json.cabId)} updated; its device token is unchanged.${qr}`);
    }
    case 'list': {
      const { json } = await call(conn, 'GET', '/admin/cabs');
      const cabs = json.cabs as Array<Record<string, unknown>>;
      const rows = cabs.map(
        (c) =>
          `${safe(c.cabId)}\t${c.online ? 'online' : 'offline'}\t${safe(c.plate)}\t${safe(c.label)}\t${safe(c.psp)}\tqr=${(c.qrCodes as unknown[]).map(safe).join(',')}\tcurrency=${safe(c.currency ?? '-')}${c.qrContent ? `\tqrContent=${safe(c.qrContent)}` : ''}\tseen=${safe(c.lastSeenAt ?? 'never')}\tapp=${safe(c.appVersion ?? '-')}\tride=${safe(c.rideState ?? '-')}\toutbox=${safe(c.outboxDepth ?? '-')}\tbacklog=${safe(c.backlog)}\ttarget=${safe(c.targetVersion ?? '-')}${c.enabled ? '' : '\tDISABLED'}`,
      );
      return out(json, rows.length ? rows.join('\n') : 'no cabs registered');
    }
    case 'rotate-token': {
      const { json } = await call(conn, 'POST', `/admin/cabs/${encodeURIComponent(cmd.cabId)}/rotate-token`);
      return out(json, `new device token for ${safe(json.cabId)} (shown once; the old one no longer works): ${safe(json.deviceToken)}`);
    }
    case 'remove': {
      const { json } = await call(conn, 'DELETE', `/admin/cabs/${encodeURIComponent(cmd.cabId)}`);
      return out(json, `cab ${safe(json.cabId)} removed.`);
    }
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  // The last guard: whatever a command printed, nothing reaches the terminal raw.
  runCli(process.argv.slice(2), process.env).then(
    (text) => console.log(terminalText(text)),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (process.argv.includes('--json')) console.error(terminalJson({ error: { code: err instanceof CliError ? 'cli' : 'internal', message } }, 0));
      else console.error(terminalText(err instanceof CliError ? `fleet: ${message}` : err instanceof Error ? (err.stack ?? message) : message));
      process.exitCode = err instanceof CliError ? 2 : 1;
    },
  );
}
