/**
 * The payment rules the relay holds rather than the tablet: each cab's currency (null: its PSP's
 * default, payments/cab-currency.ts), and which ride used a Vipps check-in (one ride each).
 */
export const PAYMENT_RULES_MIGRATION = `
  ALTER TABLE cabs ADD COLUMN currency TEXT;
  ALTER TABLE checkins ADD COLUMN ride_id TEXT;
`;
