/** The one result shape used across process boundaries (IPC, socket acks, preview bridge). */
export type AppError = { code: string; message: string };
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: string, message: string): Result<never> => ({
  ok: false,
  error: { code, message },
});
