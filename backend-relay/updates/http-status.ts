/** How each update error is answered over HTTP. */
import type { UpdateErrorCode } from './fleet-updates.js';

export const UPDATE_ERROR_STATUS: Record<UpdateErrorCode, number> = {
  updates_disabled: 404,
  invalid_release: 422,
  already_published: 409,
  unknown_release: 404,
  unknown_cab: 404,
  no_rollout: 409,
  downgrade_refused: 409,
  no_release_assigned: 404,
  not_in_release: 404,
  // The folder no longer matches what was published: the relay's fault, the tablet retries later.
  release_changed: 503,
  upload_too_large: 413,
};
