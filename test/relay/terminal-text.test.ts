/** Text from tablets, PSPs and operators on a terminal: escaped, never lost, never acted on. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../backend-relay/logger.js';
import { jsonTerminalSafe, terminalField, terminalJson, terminalText } from '../../protocol/terminal-text.js';

/** Everything a terminal acts on (C0, DEL, C1, bidi and line separators), tab and newline included. */
const ACTS_ON_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = 'v1\x1b]0;title\x07\x1b[2J\u009b2J\u202eevil\u202c\u2066x\u2069\u2028\r\n\tend';

describe('terminal text', () => {
  it('terminalField escapes every control, bidi and separator character visibly, tabs and newlines too', () => {
    const shown = terminalField(HOSTILE);
    expect(shown).not.toMatch(ACTS_ON_TERMINAL);
    expect(shown).toBe('v1\\x1b]0;title\\x07\\x1b[2J\\x9b2J\\u202eevil\\u202c\\u2066x\\u2069\\u2028\\x0d\\x0a\\x09end');
    expect(terminalField('ABC 123 Åre – 5 kr')).toBe('ABC 123 Åre – 5 kr');
    expect(terminalField(null)).toBe('null');
  });

  it('terminalText keeps the layout (tabs, newlines) and escapes the rest', () => {
    expect(terminalText('a\tb\nc\x1b[2J\u009b')).toBe('a\tb\nc\\x1b[2J\\x9b');
  });

  it('terminalJson parses back to the same value and prints nothing a terminal acts on', () => {
    const value = { plate: HOSTILE, versions: { [HOSTILE]: 1 } };
    for (const text of [terminalJson(value), terminalJson(value, 0)]) {
      expect(text.replace(/\n/g, '')).not.toMatch(ACTS_ON_TERMINAL);
      expect(JSON.parse(text)).toEqual(value);
    }
  });

  it('relay log lines carry hostile text escaped, and still parse to it', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.warn({ appVersion: HOSTILE }, `tablet said ${HOSTILE}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.trimEnd()).not.toMatch(ACTS_ON_TERMINAL);
    const parsed = JSON.parse(lines[0]!) as { appVersion: string; msg: string };
    expect(parsed.appVersion).toBe(HOSTILE);
    expect(parsed.msg).toBe(`tablet said ${HOSTILE}`);
    expect(jsonTerminalSafe('"\u009b"')).toBe('"\\u009b"');
  });
});
