/**
 * `npm run fleet -- operator <add|list|reset-password|disable|enable>`: console accounts over the
 * admin API. A new or reset account gets a one-time password, printed once, that its operator
 * must change at first login.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { terminalField as safe, terminalJson } from '../../protocol/terminal-text.js';
import { operatorName, operatorRole } from './operator-store.js';

export const OPERATOR_USAGE = `usage: npm run fleet -- operator <command> [options]
  add <name> --role admin|operator|viewer   prints a one-time password, to be changed at first login
  list
  reset-password <name>                     a new one-time password; the operator's sessions end
  disable <name> | enable <name>            a disabled operator cannot log in; their sessions end
options: --relay <url> (env RELAY_URL), --token <admin token> (env RELAY_ADMIN_TOKEN), --json`;

const command = z.discriminatedUnion('name', [
  z.object({ name: z.literal('add'), operator: operatorName, role: operatorRole }),
  z.object({ name: z.literal('list') }),
  z.object({ name: z.literal('reset-password'), operator: operatorName }),
  z.object({ name: z.literal('disable'), operator: operatorName }),
  z.object({ name: z.literal('enable'), operator: operatorName }),
]);

export interface OperatorCliDeps {
  connect(values: { relay: unknown; token: unknown; json: boolean }): { relay: string; token: string; json: boolean };
  call(conn: { relay: string; token: string }, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }>;
  fail(message: string): Error;
}

export async function runOperatorCli(argv: string[], env: NodeJS.ProcessEnv, deps: OperatorCliDeps): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        relay: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        role: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw deps.fail(`${(err as Error).message}\n${OPERATOR_USAGE}`);
  }
  const { values, positionals } = parsed;
  const [, name, operator, ...extra] = positionals;
  if (values.help || !name) throw deps.fail(OPERATOR_USAGE);
  if (extra.length) throw deps.fail(`unexpected arguments: ${extra.join(' ')}\n${OPERATOR_USAGE}`);
  const cmd = command.safeParse({ name, operator, role: values.role });
  if (!cmd.success) {
    const unknown = cmd.error.issues.some((i) => i.path[0] === 'name');
    const problems = cmd.error.issues.map((i) =>
      i.path[0] === 'operator' ? `<name>: ${i.message}` : i.path[0] === 'role' ? `--role: ${i.message}` : i.message,
    );
    throw deps.fail(unknown ? `unknown operator command "${name}"\n${OPERATOR_USAGE}` : `operator ${name}: ${problems.join('; ')}`);
  }
  const conn = deps.connect({ relay: values.relay ?? env.RELAY_URL, token: values.token ?? env.RELAY_ADMIN_TOKEN, json: values.json ?? false });
  const out = (json: unknown, text: string) => (conn.json ? terminalJson(json) : text);
  const c = cmd.data;
  const path = (op: string, action: string) => `/admin/operators/${encodeURIComponent(op)}/${action}`;
  switch (c.name) {
    case 'add': {
      const { json } = await deps.call(conn, 'POST', '/admin/operators', { name: c.operator, role: c.role });
      return out(
        json,
        `operator ${safe(json.name)} added as ${safe(json.role)}.\none-time password (shown once; it must be changed at first login): ${safe(json.oneTimePassword)}\nlog in at ${safe(new URL('/console/', conn.relay).href)}`,
      );
    }
    case 'list': {
      const { json } = await deps.call(conn, 'GET', '/admin/operators');
      const rows = (json.operators as Array<Record<string, unknown>>).map(
        (o) =>
          `${safe(o.name)}\t${safe(o.role)}\t${o.disabled ? 'DISABLED' : 'active'}${o.mustChangePassword ? '\tone-time password not changed yet' : ''}\tlast login ${safe(o.lastLoginAt ?? 'never')}`,
      );
      return out(json, rows.length ? rows.join('\n') : 'no operators yet: add one with `npm run fleet -- operator add <name> --role admin`');
    }
    case 'reset-password': {
      const { json } = await deps.call(conn, 'POST', path(c.operator, 'reset-password'));
      return out(json, `new one-time password for ${safe(json.name)} (shown once; their sessions have ended): ${safe(json.oneTimePassword)}`);
    }
    case 'disable':
    case 'enable': {
      const { json } = await deps.call(conn, 'POST', path(c.operator, c.name));
      return out(json, `operator ${safe(json.name)} ${json.disabled ? 'disabled; their sessions have ended' : 'enabled'}.`);
    }
  }
}
