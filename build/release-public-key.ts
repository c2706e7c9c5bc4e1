/**
 * The fleet release key's public half, built into the kiosk: an update installs only when its
 * cabpay-release.sig verifies against this key (or a rotation chain that starts at it).
 * Null until the fleet makes its key: `npm run fleet -- release keygen --out <dir> --app-key
 * build/release-public-key.ts` replaces this file; until then a built kiosk refuses every update.
 */
export const RELEASE_PUBLIC_KEY_PEM: string | null = null;
