/**
 * `npm run fleet -- release <command>`: publish releases and steer the rollout over the admin API.
 *   publish <version> [--dir <folder>]    register a folder already copied under RELAY_UPDATES_DIR
 *   upload <folder> [--version <v>]       upload electron-builder's output, then publish it
 *   list | status
 *   rollout <version> --percent N [--cab <id>…]
 *   promote <version>                     the same as rollout <version> --percent 100
 *   pause | resume
 *   pin <cabId> <version> | unpin <cabId>
 * and, where the builds are made (no relay needed): keygen, sign, rotate (release-signing.ts).
 */
import { openAsBlob, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { cabId } from '../../protocol/relay-protocol.js';
import { isReleaseFileName } from './release-folder.js';
import { appKeyModule, generateReleaseKey, rotateReleaseKey, signReleaseFolder, SigningError } from './release-signing.js';
import { releaseVersion } from './version.js';
import { terminalField as safe, terminalJson } from '../../protocol/terminal-text.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export const RELEASE_USAGE = `usage: npm run fleet -- release <command> [options]
  publish <version> [--dir <folder>]      register <RELAY_UPDATES_DIR>/<folder> (default: the version)
  upload <folder> [--version <v>]         upload electron-builder's output (release/) and publish it
  list                                    published releases
  status                                  the rollout, pins and recent changes
  rollout <version> --percent <0-100> [--cab <cabId>…]
                                          offer <version> to that share of cabs (same cabs every time) and to the named ones
  promote <version>                       rollout <version> --percent 100
  pause | resume                          stop / continue offering the rollout's version to new cabs
  pin <cabId> <version> | unpin <cabId>   hold one cab on a version, or release it
where the builds are made (the release key never goes to the relay):
  keygen --out <dir> [--app-key build/release-public-key.ts]
                                          a new Ed25519 release key pair; --app-key builds its public key into the kiosk
  sign <folder> --key <private key> [--chain <rotations.json>]
                                          write cabpay-release.sig over every file of a built release (release/)
  rotate --key <old private key> --next <new public key> --chain <rotations.json>
                                          the old key vouches for the new one; sign later builds with the new key and --chain
options: --relay <url> (env RELAY_URL), --token <admin token> (env RELAY_ADMIN_TOKEN), --json
rollback: tablets never downgrade; build the good code as a newer version, publish it, promote it`;

export interface Connection {
  relay: string;
  token: string;
  json: boolean;
}

export interface ReleaseCliDeps {
  /** Validates --relay/--token (or env); throws the CLI's error. */
  connect(values: { relay: string | undefined; token: string | undefined; json: boolean }): Connection;
  call(
    conn: Connection,
    method: string,
    route: string,
    body?: unknown,
    raw?: { body: Blob | Buffer; contentType: string },
  ): Promise<{ status: number; json: any }>;
  fail(message: string): Error;
}

const command = z.discriminatedUnion('name', [
  z.object({ name: z.literal('publish'), version: releaseVersion, dir: z.string().min(1).optional() }),
  z.object({
    name: z.literal('upload'),
    folder: z.string({ error: 'give the folder electron-builder wrote (e.g. release/)' }).min(1),
    version: releaseVersion.optional(),
  }),
  z.object({ name: z.literal('list') }),
  z.object({ name: z.literal('status') }),
  z.object({
    name: z.literal('rollout'),
    version: releaseVersion,
    percent: z.coerce.number({ error: '--percent is required (0–100)' }).int().min(0).max(100),
    cabs: z.array(cabId).default([]),
  }),
  z.object({ name: z.literal('promote'), version: releaseVersion }),
  z.object({ name: z.literal('pause') }),
  z.object({ name: z.literal('resume') }),
  z.object({ name: z.literal('pin'), cabId, version: releaseVersion }),
  z.object({ name: z.literal('unpin'), cabId }),
]);
type ReleaseCommand = z.infer<typeof command>;

function describeIssues(error: z.ZodError): string {
  return zodIssuesText(error, { root: '' });
}

export function parseReleaseCli(argv: string[], env: NodeJS.ProcessEnv, deps: ReleaseCliDeps): { conn: Connection; cmd: ReleaseCommand } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        relay: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        percent: { type: 'string' },
        cab: { type: 'string', multiple: true },
        dir: { type: 'string' },
        version: { type: 'string' },
        out: { type: 'string' },
        'app-key': { type: 'string' },
        key: { type: 'string' },
        next: { type: 'string' },
        chain: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw deps.fail(`${(err as Error).message}\n${RELEASE_USAGE}`);
  }
  const { values, positionals } = parsed;
  const [, name, a, b, ...extra] = positionals; // positionals[0] is "release"
  if (values.help || name === undefined) throw deps.fail(RELEASE_USAGE);
  if (extra.length) throw deps.fail(`unexpected arguments: ${extra.join(' ')}\n${RELEASE_USAGE}`);
  const conn = deps.connect({ relay: values.relay ?? env.RELAY_URL, token: values.token ?? env.RELAY_ADMIN_TOKEN, json: values.json });
  const fields: Record<string, unknown> = { name };
  if (name === 'publish' || name === 'rollout' || name === 'promote') fields.version = a;
  if (name === 'publish') fields.dir = values.dir;
  if (name === 'upload') Object.assign(fields, { folder: a, version: values.version });
  if (name === 'rollout') Object.assign(fields, { percent: values.percent, cabs: values.cab ?? [] });
  if (name === 'pin') Object.assign(fields, { cabId: a, version: b });
  if (name === 'unpin') fields.cabId = a;
  const cmd = command.safeParse(fields);
  if (!cmd.success) {
    const unknown = cmd.error.issues.some((i) => i.path[0] === 'name');
    throw deps.fail(unknown ? `unknown release command "${name}"\n${RELEASE_USAGE}` : `release ${name}: ${describeIssues(cmd.error)}`);
  }
  return { conn, cmd: cmd.data };
}

function rolloutLine(r: any): string {
  if (!r) return 'no rollout yet';
  const named = r.namedCabs.length ? ` + ${(r.namedCabs as unknown[]).map(safe).join(',')}` : '';
  return `${r.paused ? 'PAUSED ' : ''}${safe(r.targetVersion)} to ${safe(r.percent)}%${named}; others on ${safe(r.stableVersion ?? '(nothing)')} (since ${safe(r.updatedAt)})`;
}

/** The version in a folder's latest*.yml, for `upload` without --version. */
function versionOfFolder(folder: string, names: string[], deps: ReleaseCliDeps): string {
  for (const name of names.filter((n) => /^latest.*\.yml$/.test(n))) {
    const m = /^version:\s*['"]?([^'"\s]+)/m.exec(readFileSync(path.join(folder, name), 'utf8'));
    if (m) return m[1]!;
  }
  throw deps.fail(`${folder} holds no latest*.yml with a version: run npm run dist first, or pass --version`);
}

export async function runReleaseCli(argv: string[], env: NodeJS.ProcessEnv, deps: ReleaseCliDeps): Promise<string> {
  const local = await runSigningCommand(argv, deps);
  if (local !== null) return local;
  const { conn, cmd } = parseReleaseCli(argv, env, deps);
  // What the relay answers may hold data from tablets (their versions) and operators: escaped.
  const out = (json: unknown, text: string) => (conn.json ? terminalJson(json) : text);
  const call = (method: string, route: string, body?: unknown) => deps.call(conn, method, route, body);
  switch (cmd.name) {
    case 'publish': {
      const { json } = await call('POST', '/admin/releases', { version: cmd.version, ...(cmd.dir ? { dir: cmd.dir } : {}) });
      return out(
        json,
        `published ${safe(json.version)} from ${safe(json.dir)}: ${(json.channels as unknown[]).map(safe).join(', ')}; ${safe(json.files.length)} files`,
      );
    }
    case 'upload': {
      let names: string[];
      try {
        names = readdirSync(cmd.folder).filter((n) => statSync(path.join(cmd.folder, n)).isFile() && isReleaseFileName(n));
      } catch (err) {
        throw deps.fail(`cannot read ${cmd.folder}: ${(err as Error).message}`);
      }
      const version = cmd.version ?? versionOfFolder(cmd.folder, names, deps);
      // The feeds go last, so a folder never names an artifact that is not there yet.
      const ordered = [...names.filter((n) => !n.endsWith('.yml')), ...names.filter((n) => n.endsWith('.yml'))];
      for (const name of ordered) {
        const body = await openAsBlob(path.join(cmd.folder, name)); // streamed, not read into memory
        await deps.call(conn, 'PUT', `/admin/releases/${encodeURIComponent(version)}/files/${encodeURIComponent(name)}`, undefined, {
          body,
          contentType: 'application/octet-stream',
        });
      }
      const { json } = await call('POST', '/admin/releases', { version });
      return out(json, `uploaded ${ordered.length} files and published ${safe(json.version)}: ${(json.channels as unknown[]).map(safe).join(', ')}`);
    }
    case 'list': {
      const { json } = await call('GET', '/admin/releases');
      const rows = (json.releases as any[]).map(
        (r) => `${safe(r.version)}\t${safe(r.dir)}\t${(r.channels as unknown[]).map(safe).join(',')}\tpublished=${safe(r.publishedAt)}`,
      );
      return out(json, [...(rows.length ? rows : ['no releases published']), `rollout: ${rolloutLine(json.rollout)}`].join('\n'));
    }
    case 'status': {
      const { json } = await call('GET', '/admin/rollout');
      const pins = (json.pins as any[]).map((p) => `pin\t${safe(p.cabId)}\t${safe(p.version)}`);
      const log = (json.log as any[]).slice(0, 10).map((l) => `${safe(l.at)}\t${safe(l.action)}\t${terminalJson(l.detail, 0)}`);
      const f = json.fleet;
      // Keyed by the versions the tablets report.
      const counts = (o: Record<string, number>) =>
        Object.entries(o)
          .map(([v, n]) => `${safe(v)}: ${safe(n)}`)
          .join(', ') || '-';
      const fleetLines = [`cabs: ${safe(f.cabs)}, up to date: ${safe(f.upToDate)}`, `running: ${counts(f.running)}`, `offered: ${counts(f.offered)}`];
      return out(json, [`rollout: ${rolloutLine(json.rollout)}`, ...fleetLines, ...pins, ...(log.length ? ['recent:', ...log] : [])].join('\n'));
    }
    case 'rollout':
    case 'promote': {
      const body = cmd.name === 'promote' ? { version: cmd.version, percent: 100, cabs: [] } : { version: cmd.version, percent: cmd.percent, cabs: cmd.cabs };
      const { json } = await call('PUT', '/admin/rollout', body);
      return out(json, `rollout: ${rolloutLine(json.rollout)}`);
    }
    case 'pause':
    case 'resume': {
      const { json } = await call('POST', `/admin/rollout/${cmd.name}`);
      return out(json, `rollout: ${rolloutLine(json.rollout)}`);
    }
    case 'pin': {
      const { json } = await call('PUT', `/admin/cabs/${encodeURIComponent(cmd.cabId)}/pin`, { version: cmd.version });
      return out(json, `cab ${safe(json.cabId)} pinned to ${safe(json.pinnedVersion)}`);
    }
    case 'unpin': {
      const { json } = await call('DELETE', `/admin/cabs/${encodeURIComponent(cmd.cabId)}/pin`);
      return out(json, `cab ${safe(json.cabId)} follows the rollout again`);
    }
  }
}

/** keygen, sign and rotate run on the build machine and never talk to the relay; null for other commands. */
async function runSigningCommand(argv: string[], deps: ReleaseCliDeps): Promise<string | null> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      'app-key': { type: 'string' },
      key: { type: 'string' },
      next: { type: 'string' },
      chain: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [, name, folder] = positionals;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const json = values.json === true;
  try {
    switch (name) {
      case 'keygen': {
        const out = str(values.out);
        if (!out) throw deps.fail('release keygen: --out <dir> is required: a folder on the build machine, never on the relay');
        const keys = generateReleaseKey(out);
        const appKey = str(values['app-key']);
        if (appKey) writeFileSync(appKey, appKeyModule(keys.publicPem));
        const result = { ...keys, appKey: appKey ?? null };
        return json
          ? JSON.stringify(result, null, 2)
          : [
              `private key: ${keys.privateKeyFile} (owner-only; keep it offline and backed up, never on the relay)`,
              `public key:  ${keys.publicKeyFile}`,
              appKey
                ? `built into the kiosk by ${appKey}; build the app (npm run dist) to ship it`
                : 'build it into the kiosk with --app-key build/release-public-key.ts',
            ].join('\n');
      }
      case 'sign': {
        const key = str(values.key);
        if (!folder || !key)
          throw deps.fail('release sign <folder> --key <private key> [--chain <rotations.json>]: give the built release folder and the release key');
        const signed = await signReleaseFolder(folder, key, str(values.chain));
        return json
          ? JSON.stringify(signed, null, 2)
          : `signed ${signed.version}: ${signed.files} files in ${signed.file}; upload the folder with fleet release upload ${folder}`;
      }
      case 'rotate': {
        const key = str(values.key);
        const next = str(values.next);
        const chain = str(values.chain);
        if (!key || !next || !chain) throw deps.fail('release rotate --key <old private key> --next <new public key> --chain <rotations.json>');
        const rotated = await rotateReleaseKey(key, next, chain);
        return json
          ? JSON.stringify(rotated, null, 2)
          : `${chain} now holds ${rotated.rotations} rotation(s); sign new builds with the new key and --chain ${chain}`;
      }
      default:
        return null;
    }
  } catch (err) {
    if (err instanceof SigningError) throw deps.fail(`release ${name}: ${err.message}`);
    throw err;
  }
}
