/**
 * In-memory counters for what one client may do (rate-limiter-flexible). Failures are counted
 * per address (wrong admin tokens, receipt guesses, failed handshakes), so honest traffic never
 * spends the allowance; messages and requests are counted per cab. A restart starts them afresh.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';

export const limitSetting = z.object({
  /** How many in one window. */
  points: z.number().int().positive(),
  /** The window, in seconds, from the first one counted. */
  durationS: z.number().int().positive(),
});
export type LimitSetting = z.infer<typeof limitSetting>;

/** `points` failures per window are allowed; after that the key is refused until its window ends. */
export class FailureLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(
    name: string,
    private readonly setting: LimitSetting,
  ) {
    this.limiter = new RateLimiterMemory({ keyPrefix: name, points: setting.points, duration: setting.durationS });
  }

  /** Seconds until `key` may try again; 0 while it may. */
  async retryAfterS(key: string): Promise<number> {
    const res = await this.limiter.get(key);
    return res && res.consumedPoints >= this.setting.points ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
  }

  async failed(key: string): Promise<void> {
    await this.limiter.penalty(key, 1);
  }
}

/** `points` per window; any more are refused until the window ends. */
export class CountLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(name: string, setting: LimitSetting) {
    this.limiter = new RateLimiterMemory({ keyPrefix: name, points: setting.points, duration: setting.durationS });
  }

  /** Counts one for `key`: 0 when allowed, else the seconds until the window ends. */
  async take(key: string): Promise<number> {
    try {
      await this.limiter.consume(key, 1);
      return 0;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw res;
    }
  }
}
