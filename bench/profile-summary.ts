/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top]`: self time by function and by file
 * from a V8 CPU profile (node --cpu-prof), to see where the relay spends its time.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export function summarizeProfile(text: string, top = 25): string {
  const profile = profileSchema.parse(JSON.parse(text));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const file =
      f.url
        .replace(/^file:\/\//, '')
        .replace(/.*node_modules\//, 'node_modules/')
        .replace(/.*\/work\/[^/]+\//, '') || '(native)';
    const fn = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg = file.startsWith('node_modules/')
      ? file
          .split('/')
          .slice(0, file.split('/')[1]?.startsWith('@') ? 3 : 2)
          .join('/')
      : file;
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
  }
  const fmt = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
      .join('\n');
  return `total ${(total / 1000).toFixed(0)} ms sampled\n\nself time by function:\n${fmt(byFunction)}\n\nself time by file or package:\n${fmt(byFile)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarizeProfile(readFileSync(file, 'utf8'), Number(process.argv[3] ?? 25))}\n`);
}
