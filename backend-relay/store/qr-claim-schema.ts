/**
 * QR codes reserved for a cab while its PSP sets them up (`PUT /admin/cabs`): a second claim of
 * the same code waits its turn instead of racing the first at the PSP (`store/qr-claims.ts`).
 */
export const QR_CLAIMS_MIGRATION = `
  CREATE TABLE qr_claims (
    qr_code        TEXT PRIMARY KEY,
    cab_id         TEXT NOT NULL,
    claim_id       TEXT NOT NULL,
    expires_at_ms  INTEGER NOT NULL
  );
  CREATE INDEX qr_claims_by_claim ON qr_claims(claim_id);
`;
