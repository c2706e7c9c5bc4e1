/** IPC channel names shared by the main process and the preload (no other imports: the preload bundles this). */
export const IPC_COMMAND = 'cabpay:command';
export const IPC_GET_STATE = 'cabpay:getState';
/** Main → renderer push of every new snapshot. */
export const IPC_STATE = 'cabpay:state';
