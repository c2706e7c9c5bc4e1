/** How long console sessions last and how many wrong passwords an account takes before it is locked. */
import { z } from 'zod';
import { limitSetting } from '../rate-limits.js';

export const consoleConfigSchema = z.object({
  /** A session unused this long ends (the operator logs in again). */
  sessionIdleS: z
    .number()
    .int()
    .positive()
    .default(30 * 60),
  /** No session lasts longer than this. */
  sessionMaxS: z
    .number()
    .int()
    .positive()
    .default(12 * 3600),
  /** Wrong passwords for one operator name, then its logins are refused until the window ends. */
  loginFailures: limitSetting.default({ points: 5, durationS: 15 * 60 }),
  /** Folder of the built console (npm run build:console); default console/dist in the repository. */
  dir: z.string().min(1).optional(),
});
export type ConsoleConfig = z.output<typeof consoleConfigSchema>;
