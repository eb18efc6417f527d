import {
  Action,
  CommandAction,
  type CommandOption,
  CommandRouter,
  Option,
  type OptionDefinition,
  Template,
} from '@drover/command';
import fc from 'fast-check';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { layoutUsage } from '../../packages/command/src/help/usage.js';
import { capture } from './support/capture.js';

function option(definition: OptionDefinition) {
  @Option(definition)
  class TestOption implements CommandOption<object> {
    impactAction(): void {}
  }
  return TestOption;
}

function action(name: string) {
  @Action({ name, description: `The ${name} action` })
  class TestAction extends CommandAction {
    handler(): void {}
  }
  return TestAction;
}

const options = [
  option({ name: 'w', long: 'workers', description: 'Workers', value: 'required', valueName: 'count' }),
  option({ name: 'd', long: 'daemon', description: 'Background', value: 'none' }),
  option({ name: 'name', description: 'Group name', value: 'required', valueName: 'name' }),
  option({ name: 'max-memory', description: 'Memory cap', value: 'required', valueName: 'size' }),
  option({ name: 'ready-when', description: 'Readiness', value: 'required', valueName: 'when' }),
  option({ name: 'ready-timeout', description: 'Ready deadline', value: 'required', valueName: 'ms' }),
  option({ name: 'node-args', description: 'Node options', value: 'required', valueName: 'args' }),
  option({ name: 'log-dir', description: 'Log directory', value: 'optional', valueName: 'dir' }),
  option({ name: 'q', long: 'quiet', description: 'Less output', value: 'none' }),
  option({ name: 'v', long: 'verbose', description: 'More output', value: 'none' }),
  option({ name: 'force', description: 'Do not wait', value: 'none' }),
  option({ name: 'json', description: 'As JSON', value: 'none' }),
  // one item wider than a 40-column line: `[--ca-bundle=<…>]` is 56 characters
  option({
    name: 'ca-bundle',
    description: 'Certificates',
    value: 'required',
    valueName: 'path-to-a-pem-encoded-certificate-bundle',
  }),
];

@Template(
  `<launch> <script> [args...] -[w] -[d] -[name] -[max-memory] -[ready-when] -[ready-timeout] -[node-args] -[log-dir] -[q|v]
   <stop|restart|reload> <name> -[force] -[q|v]
   <status> [name] -[json]
   <fetch> <url> -[ca-bundle] -[q|v]`,
  { bin: 'tool' },
)
class LongTemplate {}

function router() {
  return new CommandRouter(new Container(), {
    template: LongTemplate,
    actions: ['launch', 'stop', 'restart', 'reload', 'status', 'fetch'].map(action),
    options,
  });
}

async function help(argv: string[], columns?: number, env?: Record<string, string>): Promise<string> {
  const out = capture({ columns, env });
  expect(await router().run(argv, out.io)).toBe(0);
  return out.stdout();
}

/** The usage lines at the top of a help page, up to the first blank line. */
function usageBlock(page: string): string[] {
  return page.split('\n\n')[0]!.split('\n');
}

const LAUNCH_ITEMS = [
  '<script>',
  '[args...]',
  '[-w=<count>]',
  '[-d]',
  '[--name=<name>]',
  '[--max-memory=<size>]',
  '[--ready-when=<when>]',
  '[--ready-timeout=<ms>]',
  '[--node-args=<args>]',
  '[--log-dir[=<dir>]]',
  '[-q|-v]',
];

describe('usage lines wrapped to the terminal', () => {
  it('80 columns: continuation lines start under the first item, the command alone in its column', async () => {
    expect(usageBlock(await help(['--help'], 80)).join('\n')).toMatchInlineSnapshot(`
      "Usage: tool launch <script> [args...] [-w=<count>] [-d] [--name=<name>]
                         [--max-memory=<size>] [--ready-when=<when>]
                         [--ready-timeout=<ms>] [--node-args=<args>]
                         [--log-dir[=<dir>]] [-q|-v]
             tool (stop|restart|reload) <name> [--force] [-q|-v]
             tool status [name] [--json]
             tool fetch <url> [--ca-bundle=<path-to-a-pem-encoded-certificate-bundle>]
                        [-q|-v]"
    `);
    expect(usageBlock(await help(['launch', '--help'], 80)).join('\n')).toMatchInlineSnapshot(`
      "Usage: tool launch <script> [args...] [-w=<count>] [-d] [--name=<name>]
                         [--max-memory=<size>] [--ready-when=<when>]
                         [--ready-timeout=<ms>] [--node-args=<args>]
                         [--log-dir[=<dir>]] [-q|-v]"
    `);
  });

  it('off a TTY the width is 80, as for descriptions', async () => {
    expect(await help(['--help'])).toBe(await help(['--help'], 80));
    expect(await help(['launch', '--help'])).toBe(await help(['launch', '--help'], 80));
  });

  it('off a TTY, COLUMNS sets the width; the width of a terminal wins over it; a bad one is ignored', async () => {
    const at200 = await help(['--help'], 200);
    expect(await help(['--help'], undefined, { COLUMNS: '200' })).toBe(at200);
    expect(await help(['--help'], undefined, { COLUMNS: ' 200\n' })).toBe(at200);
    expect(await help(['--help'], 80, { COLUMNS: '200' })).toBe(await help(['--help'], 80));
    for (const bad of ['', 'wide', '-5', '0', '1e3', '120px']) {
      expect(await help(['--help'], undefined, { COLUMNS: bad }), bad).toBe(await help(['--help'], 80));
    }
    // the floor of 40 holds for COLUMNS too
    expect(await help(['--help'], undefined, { COLUMNS: '10' })).toBe(await help(['--help'], 40));
  });

  it('200 columns: every usage line on one line', async () => {
    const lines = usageBlock(await help(['--help'], 200));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      'Usage: tool launch <script> [args...] [-w=<count>] [-d] [--name=<name>] [--max-memory=<size>] [--ready-when=<when>] [--ready-timeout=<ms>] [--node-args=<args>] [--log-dir[=<dir>]] [-q|-v]',
    );
    expect(usageBlock(await help(['launch', '--help'], 200))).toEqual([lines[0]]);
  });

  it('40 columns: items too wide to hang under the first one hang 4 past the prefix; a wider one keeps its own line', async () => {
    const page = await help(['--help'], 40);
    expect(usageBlock(page).join('\n')).toMatchInlineSnapshot(`
      "Usage: tool launch
                 <script> [args...]
                 [-w=<count>] [-d]
                 [--name=<name>]
                 [--max-memory=<size>]
                 [--ready-when=<when>]
                 [--ready-timeout=<ms>]
                 [--node-args=<args>]
                 [--log-dir[=<dir>]] [-q|-v]
             tool (stop|restart|reload)
                 <name> [--force] [-q|-v]
             tool status [name] [--json]
             tool fetch <url>
                        [--ca-bundle=<path-to-a-pem-encoded-certificate-bundle>]
                        [-q|-v]"
    `);
    // every usage line fits, but the one holding the item wider than the page, which stays whole
    const wide = '[--ca-bundle=<path-to-a-pem-encoded-certificate-bundle>]';
    for (const line of usageBlock(page)) {
      if (line.includes(wide)) expect(line.trim()).toBe(wide);
      else expect(line.length, line).toBeLessThanOrEqual(40);
    }
    expect(usageBlock(await help(['fetch', '--help'], 40))).toEqual([
      'Usage: tool fetch <url>',
      `                  ${wide}`,
      '                  [-q|-v]',
    ]);
  });

  it('never breaks inside an item, at any width', async () => {
    for (const columns of [40, 41, 55, 64, 80, 97, 120, 200]) {
      const lines = usageBlock(await help(['launch', '--help'], columns));
      const words = lines
        .join(' ')
        .split(/\s+/)
        .filter((w) => w !== '');
      expect(words, `${columns} columns`).toEqual(['Usage:', 'tool', 'launch', ...LAUNCH_ITEMS]);
      for (const line of lines) expect(line.length, `${columns}: ${line}`).toBeLessThanOrEqual(columns);
    }
  });
});

describe('layoutUsage', () => {
  const item = fc
    .string({ minLength: 1, maxLength: 30 })
    .map((s) => s.replace(/\s/g, 'x'))
    .filter((s) => s !== '');

  it('keeps the items whole and in order; a line overflows only to hold one item; continuation lines share an indent', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Usage: ', '       '),
        fc.constantFrom('app start', 'tool (stop|restart|reload)', 'x y'),
        fc.array(item, { maxLength: 12 }),
        fc.integer({ min: 20, max: 120 }),
        (prefix, command, items, width) => {
          const lines = layoutUsage(prefix, command, items, width);
          expect(lines[0]!.startsWith(`${prefix}${command}`)).toBe(true);
          const rest = [lines[0]!.slice(prefix.length + command.length), ...lines.slice(1)];
          expect(rest.join(' ').split(' ').filter(Boolean)).toEqual(items);
          const indents = new Set(lines.slice(1).map((l) => l.length - l.trimStart().length));
          expect(indents.size).toBeLessThanOrEqual(1);
          for (const line of lines.slice(1)) {
            if (line.length > width) expect(line.trim().split(' ')).toHaveLength(1);
          }
          // the first line holds the command and at most one item beyond what fits
          if (lines[0]!.length > width)
            expect(rest[0]!.trim().split(' ').filter(Boolean).length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hangs under the first item when every item fits there', () => {
    expect(layoutUsage('Usage: ', 'app go', ['<a>', '[-b]', '[--c=<d>]'], 24)).toEqual([
      'Usage: app go <a> [-b]',
      '              [--c=<d>]',
    ]);
    expect(layoutUsage('Usage: ', 'app go', [], 24)).toEqual(['Usage: app go']);
  });
});
