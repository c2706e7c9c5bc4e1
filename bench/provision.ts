/** Registers the bench cabs through the relay's admin API (PUT /admin/cabs/:cabId), as a fleet would. */
import { z } from 'zod';
import { qrCodeOf } from './hooks.js';
import type { CabCredential } from './ipc.js';

const CONCURRENCY = 64;
const created = z.object({ cabId: z.string(), deviceToken: z.string().min(16) });

export const benchCabId = (i: number) => `bench-cab-${String(i + 1).padStart(5, '0')}`;

export async function provisionCabs(relayUrl: string, adminToken: string, cabIds: string[]): Promise<CabCredential[]> {
  const out: CabCredential[] = new Array(cabIds.length);
  let next = 0;
  const lane = async () => {
    while (next < cabIds.length) {
      const i = next++;
      const cabId = cabIds[i]!;
      const res = await fetch(`${relayUrl}/admin/cabs/${cabId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ qrCodes: [qrCodeOf(cabId)], plate: `BN ${i}`, label: `Bench ${i + 1}` }),
      });
      const body: unknown = await res.json();
      const parsed = created.safeParse(body);
      if (!res.ok || !parsed.success) {
        throw new Error(`registering ${cabId} failed: ${res.status} ${JSON.stringify(body)} — is RELAY_ADMIN_TOKEN right?`);
      }
      out[i] = { cabId, token: parsed.data.deviceToken };
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return out;
}
