import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  CONTROL_SIGNALS,
  encodeError,
  encodeRequest,
  encodeResult,
  ProtocolError,
  parseRequest,
  parseResponse,
} from '../../../packages/core/src/control/protocol.js';
import { refusedRequest as protocolError } from './support.js';

const requestId = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 128 }),
);
const validRequest = fc.oneof(
  fc.record({ id: requestId, cmd: fc.constantFrom('ping', 'status') }),
  fc.record(
    {
      id: requestId,
      cmd: fc.constantFrom('stop', 'restart', 'reload'),
      args: fc.record({ timeoutMs: fc.nat() }, { requiredKeys: [] }),
    },
    { requiredKeys: ['id', 'cmd'] },
  ),
  fc.record({ id: requestId, cmd: fc.constant('scale'), args: fc.record({ workers: fc.nat() }) }),
  fc.record({
    id: requestId,
    cmd: fc.constant('signal'),
    args: fc.record({ signal: fc.constantFrom(...CONTROL_SIGNALS) }),
  }),
);

describe('parseRequest', () => {
  it('accepts every well-formed request and returns it with args filled in', () => {
    fc.assert(
      fc.property(validRequest, (request) => {
        const parsed = parseRequest(JSON.stringify(request));
        expect(parsed).toEqual({ args: {}, ...JSON.parse(JSON.stringify(request)) });
      }),
    );
  });

  it('throws nothing but a ProtocolError for any string (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (line) => {
          try {
            parseRequest(line);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
            expect((err as ProtocolError).code).toBe('EPROTOCOL');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but a ProtocolError for requests with one field mutated (property)', () => {
    const anyValue = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    fc.assert(
      fc.property(
        validRequest,
        fc.constantFrom('id', 'cmd', 'args', 'args.workers', 'args.signal', 'args.timeoutMs', 'extra'),
        anyValue,
        (request, field, value) => {
          const copy = JSON.parse(JSON.stringify(request));
          if (field.startsWith('args.')) {
            copy.args = { ...(copy.args ?? {}), [field.slice(5)]: value };
          } else copy[field] = value;
          let parsed: unknown;
          try {
            parsed = parseRequest(JSON.stringify(copy));
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
            return;
          }
          // whatever got through is a valid request
          expect(COMMANDS).toContain((parsed as { cmd: string }).cmd);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('names the field, the value and what is allowed', () => {
    expect(protocolError('{"id":1,"cmd":"fly"}').message).toBe(
      `drover: control request field 'cmd' is "fly"; known commands: ${COMMANDS.join(', ')}`,
    );
    expect(protocolError('{"id":1,"cmd":"scale","args":{"workers":1.5}}').message).toBe(
      "drover: control request field 'args.workers' is 1.5; expected an integer >= 0",
    );
    expect(protocolError('{"id":1,"cmd":"scale"}').message).toContain("'args.workers' is undefined");
    expect(protocolError('{"id":1,"cmd":"signal","args":{"signal":"SIGKILL"}}').message).toBe(
      `drover: control request field 'args.signal' is "SIGKILL"; expected one of ${CONTROL_SIGNALS.join(', ')}`,
    );
    expect(protocolError('{"id":1,"cmd":"stop","args":{"timeoutMs":"5s"}}').message).toContain(
      '\'args.timeoutMs\' is "5s"; expected an integer number of milliseconds >= 0',
    );
    expect(protocolError('{"id":1,"cmd":"ping","args":{"x":1}}').message).toContain(
      `'ping' has unknown argument "x"; 'ping' takes no arguments`,
    );
    expect(protocolError('{"id":1,"cmd":"scale","args":{"workers":1,"force":true}}').message).toContain(
      `unknown argument "force"; allowed: 'workers'`,
    );
    expect(protocolError('{"id":1,"cmd":"ping","args":[1]}').message).toContain("field 'args' is an array");
    expect(protocolError('{"id":{},"cmd":"ping"}').message).toContain("field 'id' is an object");
    expect(protocolError('{"cmd":"ping"}').message).toContain("field 'id' is undefined");
    expect(protocolError('{"id":1,"cmd":"ping","__proto__":{}}').message).toContain(
      'unknown field "__proto__"',
    );
    expect(protocolError('null').message).toContain('is null');
    expect(protocolError('{"id":1,').message).toContain('is not valid JSON');
  });

  it('keeps the id of a request it refuses, when the id itself is valid', () => {
    expect(protocolError('{"id":"abc","cmd":"fly"}').id).toBe('abc');
    expect(protocolError('{"id":[1],"cmd":"ping"}').id).toBeNull();
  });
});

describe('encoding', () => {
  it('round-trips requests and responses as single lines', () => {
    const request = encodeRequest(7, 'scale', { workers: 2 });
    expect(request.endsWith('\n')).toBe(true);
    expect(request.indexOf('\n')).toBe(request.length - 1);
    expect(parseRequest(request)).toEqual({ id: 7, cmd: 'scale', args: { workers: 2 } });
    expect(parseResponse(encodeResult(7, { a: 'line\nbreak' }))).toEqual({
      id: 7,
      ok: true,
      result: { a: 'line\nbreak' },
    });
    expect(parseResponse(encodeResult('x', undefined))).toEqual({ id: 'x', ok: true, result: null });
    expect(parseResponse(encodeError(null, 'EX', 'boom'))).toEqual({
      id: null,
      ok: false,
      error: { code: 'EX', message: 'boom' },
    });
    for (const bad of ['', 'nope', '{"id":1}', '{"id":1,"ok":false}', '[]'])
      expect(parseResponse(bad)).toBeNull();
  });
});
