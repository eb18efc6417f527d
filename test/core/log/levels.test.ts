import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../packages/core/src/errors.js';
import { isAtLeast, LOG_LEVELS, levelRank, parseLogLevel } from '../../../packages/core/src/log/levels.js';

describe('log levels', () => {
  it('orders the six levels from debug to fatal', () => {
    expect(LOG_LEVELS).toEqual(['debug', 'info', 'notice', 'warning', 'error', 'fatal']);
    expect(LOG_LEVELS.map(levelRank)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(isAtLeast('error', 'warning')).toBe(true);
    expect(isAtLeast('info', 'notice')).toBe(false);
  });

  it('parses every level, ignoring case and surrounding blanks', () => {
    for (const level of LOG_LEVELS) {
      expect(parseLogLevel(level)).toBe(level);
      expect(parseLogLevel(` ${level.toUpperCase()} `)).toBe(level);
    }
  });

  it.each([['warnings'], ['verbose'], [''], [3], [null], [undefined], ['toString'], ['__proto__']])(
    'rejects %j with a ConfigError naming the key, the value and the levels',
    (value) => {
      let error: unknown;
      try {
        parseLogLevel(value, 'logLevel');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const configError = error as ConfigError;
      expect(configError.key).toBe('logLevel');
      expect(configError.value).toBe(value);
      expect(configError.message).toContain("'logLevel'");
      expect(configError.message).toContain('debug, info, notice, warning, error, fatal');
    },
  );

  it("takes pino's and npm's 'warn' for warning", () => {
    expect(parseLogLevel('warn')).toBe('warning');
    expect(parseLogLevel('WARN')).toBe('warning');
  });

  it('names the nearest level when there is one', () => {
    expect(() => parseLogLevel('eror')).toThrow(/\(did you mean 'error'\?\)/);
    expect(() => parseLogLevel('verbose')).not.toThrow(/did you mean/);
  });

  it('names the key it was given', () => {
    expect(() => parseLogLevel('loud', 'groups.mailer.logLevel')).toThrow(
      /'groups\.mailer\.logLevel' is "loud"/,
    );
  });
});
