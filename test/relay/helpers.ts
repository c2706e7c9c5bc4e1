/** The relay harness lives in scripts/lib (the screenshot script drives it too); tests import it from here. */
export * from '../../scripts/lib/relay-harness.js';
