/** The settings every part of one sandbox instance shares. */
export interface SandboxConfig {
  /** Base URL that goes into QR data and the phone page (what a phone can reach). */
  publicUrl: string;
  merchantKey: string;
  merchantId: string;
  merchantName: string;
  salesChannelId: string;
  /** Smallest accepted order/payment timeout: 60 as at Hips; tests may lower it. */
  timeoutFloorSeconds: number;
}

export const MAX_TIMEOUT_SECONDS = 3600;
