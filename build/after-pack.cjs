/**
 * electron-builder afterPack hook: flips Electron's fuses in the packed binary, before signing,
 * so that a stolen tablet cannot turn the kiosk into a general Node runtime or load an
 * unpacked, edited app. A build where this cannot happen fails: an unfused kiosk must not ship.
 */
const path = require('node:path');

/** The fuse settings, by FuseV1Options name. */
const fuseSettings = {
  RunAsNode: false,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  // The renderer is served from app://, so file:// needs no extra powers.
  GrantFileProtocolExtraPrivileges: false,
};

/** The packed Electron executable for this platform. */
function executablePath(context) {
  const { electronPlatformName: platform, appOutDir, packager } = context;
  const name = packager.appInfo.productFilename;
  if (platform === 'darwin' || platform === 'mas') return path.join(appOutDir, `${name}.app`);
  if (platform === 'win32') return path.join(appOutDir, `${name}.exe`);
  return path.join(appOutDir, packager.executableName || name);
}

function loadFuses() {
  try {
    return require('@electron/fuses');
  } catch (err) {
    throw new Error(`@electron/fuses is not installed (it ships with electron-builder); cannot harden the build: ${err.message}`, { cause: err });
  }
}

async function afterPack(context) {
  const { flipFuses, FuseVersion, FuseV1Options } = loadFuses();
  const config = { version: FuseVersion.V1 };
  for (const [name, value] of Object.entries(fuseSettings)) config[FuseV1Options[name]] = value;
  // arm64 macOS binaries are ad-hoc signed; editing them needs a fresh ad-hoc signature.
  config.resetAdHocDarwinSignature = context.electronPlatformName === 'darwin' && context.arch === 3; // Arch.arm64
  const executable = executablePath(context);
  await flipFuses(executable, config);
  console.log(`  • fuses flipped  file=${executable}`);
}

module.exports = { default: afterPack, afterPack, fuseSettings, executablePath };
