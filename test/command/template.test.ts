import { parseTemplate, TemplateSyntaxError } from '@drover/command';
import { describe, expect, it } from 'vitest';

describe('parseTemplate: accepted templates', () => {
  const cases: Array<{ template: string; lines: unknown[] }> = [
    {
      template: '<start|stop|restart|status> -[d]',
      lines: [
        {
          actions: ['start', 'stop', 'restart', 'status'],
          positionals: [],
          optionGroups: [{ required: false, options: ['d'], column: 29 }],
        },
      ],
    },
    {
      template: '<run>',
      lines: [{ actions: ['run'], positionals: [], optionGroups: [] }],
    },
    {
      template: '<start> -[a|s] -<json|text>',
      lines: [
        {
          actions: ['start'],
          positionals: [],
          optionGroups: [
            { required: false, options: ['a', 's'], column: 9 },
            { required: true, options: ['json', 'text'], column: 16 },
          ],
        },
      ],
    },
    {
      template: '<start> <script> [args...] -[d]',
      lines: [
        {
          actions: ['start'],
          positionals: [
            { name: 'script', required: true, variadic: false, column: 9 },
            { name: 'args', required: false, variadic: true, column: 18 },
          ],
          optionGroups: [{ required: false, options: ['d'], column: 28 }],
        },
      ],
    },
    {
      template: '<copy> <files...>',
      lines: [
        {
          actions: ['copy'],
          positionals: [{ name: 'files', required: true, variadic: true, column: 8 }],
          optionGroups: [],
        },
      ],
    },
    {
      // Options and positionals may interleave; tabs and repeated spaces separate tokens too.
      template: '<scale>\t-[q]   <name> <count>',
      lines: [
        {
          actions: ['scale'],
          positionals: [
            { name: 'name', required: true, variadic: false, column: 16 },
            { name: 'count', required: true, variadic: false, column: 23 },
          ],
          optionGroups: [{ required: false, options: ['q'], column: 9 }],
        },
      ],
    },
    {
      // Several usage lines; indentation and blank lines are ignored, line numbers kept.
      template: '\n  <start> <script> -[d]\n\n  <stop|status> [name] -[d]\n',
      lines: [
        { line: 2, actions: ['start'] },
        {
          line: 4,
          actions: ['stop', 'status'],
          positionals: [{ name: 'name', required: false, variadic: false, column: 17 }],
        },
      ],
    },
    {
      template: '<dry-run.v2|x_y> -[dry-run]',
      lines: [
        {
          actions: ['dry-run.v2', 'x_y'],
          optionGroups: [{ required: false, options: ['dry-run'], column: 18 }],
        },
      ],
    },
  ];

  it.each(cases)('$template', ({ template, lines }) => {
    const ast = parseTemplate(template);
    expect(ast.source).toBe(template);
    expect(ast.lines).toMatchObject(lines);
    expect(ast.lines).toHaveLength(lines.length);
  });
});

describe('parseTemplate: rejected templates name the column and what was expected', () => {
  const cases: Array<{ template: string; line?: number; column: number; expected: RegExp; found?: string }> =
    [
      { template: '', column: 1, expected: /action group/, found: 'an empty template' },
      { template: '   ', column: 1, expected: /action group/ },
      { template: '-[d] <start>', column: 1, expected: /action group .* first on the line/, found: "'-'" },
      {
        template: '<start|stop -[d]',
        column: 12,
        expected: /'\|' and another action, or '>'/,
        found: 'a space',
      },
      { template: '<start|>', column: 8, expected: /an action name/, found: "'>'" },
      { template: '<>', column: 2, expected: /an action name/ },
      {
        template: '<start|start>',
        column: 8,
        expected: /not used before/,
        found: "'start' again (first at line 1, column 2)",
      },
      { template: '<start>\n<stop|start>', line: 2, column: 7, expected: /not used before/ },
      { template: '<help|start>', column: 2, expected: /other than 'help'/ },
      { template: '<start>-[d]', column: 8, expected: /a space between tokens/, found: "'-'" },
      { template: '<start> -d', column: 10, expected: /'\[' or '<' after '-'/, found: "'d'" },
      {
        template: '<start> -[d',
        column: 12,
        expected: /'\]' to close the option group/,
        found: 'end of line',
      },
      { template: '<start> -[d>', column: 12, expected: /'\]' to close/, found: "'>'" },
      { template: '<start> -<d]', column: 12, expected: /'>' to close/ },
      // A value belongs to the option class, not to the template.
      {
        template: '<start> -[n=]',
        column: 12,
        expected:
          /^'\|' and another option, or '\]' to close the option group \(an option's value is declared with @Option\(\{ value: 'required' \| 'optional' \}\), not in the template\)$/,
        found: "'='",
      },
      {
        template: '<start> -<d=value>',
        column: 12,
        expected: /declared with @Option\(\{ value: /,
        found: "'='",
      },
      // Names are ASCII: a letter beyond it is named as such, with what names may hold.
      {
        template: '<démarrer>',
        column: 3,
        expected: /^an action name: an ASCII letter or digit, then ASCII letters, digits, '_', '\.' and '-'$/,
        found: "'é' (not ASCII)",
      },
      {
        template: '<éteindre>',
        column: 2,
        expected: /^an action name: an ASCII letter or digit, then ASCII letters, digits, '_', '\.' and '-'$/,
        found: "'é' (not ASCII)",
      },
      {
        template: '<start> -[dé]',
        column: 12,
        expected: /^an option name: an ASCII letter or digit, then ASCII letters, digits and '-'$/,
        found: "'é' (not ASCII)",
      },
      {
        template: '<start> <nœud>',
        column: 11,
        expected: /^an argument name of an ASCII letter, then ASCII letters, digits, '_' and '-'$/,
        found: "'œ' (not ASCII)",
      },
      { template: '<start|😀>', column: 8, expected: /ASCII/, found: "'😀' (not ASCII)" },
      { template: '<start> -[]', column: 11, expected: /an option name/ },
      { template: '<start> -[d] -[d]', column: 16, expected: /option not used before/ },
      { template: '<start> -[a|a]', column: 13, expected: /option not used before/ },
      { template: '<start> -[h]', column: 11, expected: /other than 'h'/ },
      { template: '<start> -[help]', column: 11, expected: /reserved/ },
      { template: '<start> -[version]', column: 11, expected: /reserved/ },
      { template: '<start> -[no-color]', column: 11, expected: /'no-'/ },
      { template: '<start> -[_x]', column: 11, expected: /an option name/ },
      // A name holds '-' but does not start with one: the message says what it starts with.
      {
        template: '<a> -[-x]',
        column: 7,
        expected: /^an option name: an ASCII letter or digit, then /,
        found: "'-'",
      },
      {
        template: '<-a>',
        column: 2,
        expected: /^an action name: an ASCII letter or digit, then /,
        found: "'-'",
      },
      {
        template: '<start> <a|b>',
        column: 11,
        expected: /alternatives belong to the action group/,
        found: "'|'",
      },
      { template: '<start> <script', column: 16, expected: /'>' to close the argument <script/ },
      { template: '<start> [name> ', column: 14, expected: /'\]' to close/ },
      { template: '<start> <1st>', column: 10, expected: /an argument name/ },
      { template: '<start> [a] <b>', column: 13, expected: /optional argument after the optional '\[a\]'/ },
      { template: '<start> [a...] [b]', column: 16, expected: /nothing after the variadic argument 'a...'/ },
      { template: '<start> <a> <a>', column: 13, expected: /argument name not used before/ },
      {
        template: '<start> d',
        column: 9,
        expected: /an option group .* or a positional argument/,
        found: "'d'",
      },
    ];

  it.each(cases)('$template', ({ template, line = 1, column, expected, found }) => {
    let error: unknown;
    try {
      parseTemplate(template);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    const syntax = error as TemplateSyntaxError;
    expect({ line: syntax.line, column: syntax.column }).toEqual({ line, column });
    expect(syntax.expected).toMatch(expected);
    if (found !== undefined) expect(syntax.found).toBe(found);
    expect(syntax.message).toContain(`column ${column}`);
    expect(syntax.code).toBe('ETEMPLATE');
  });

  it('shows the offending line with a caret under the column', () => {
    expect(() => parseTemplate('<start|stop -[d]')).toThrow(
      "template \"<start|stop -[d]\": at column 12 expected '|' and another action, or '>' to close the action group, found a space\n" +
        '  <start|stop -[d]\n' +
        '             ^',
    );
  });

  it("keeps the source's tabs before the caret, so it lines up in a tab-indented template", () => {
    expect(() => parseTemplate('<start>\n\t\t<status> -[x')).toThrow(
      "template \"\\t\\t<status> -[x\": at line 2, column 15 expected '|' and another option, or ']' to close the option group, found end of line\n" +
        '  \t\t<status> -[x\n' +
        '  \t\t            ^',
    );
  });

  it('names the line when the template has several', () => {
    expect(() => parseTemplate('<start>\n<stop> -[x')).toThrow(/at line 2, column 11 expected/);
  });

  it('says what it got instead of a string, with the right article', () => {
    for (const [value, found] of [
      [undefined, 'an undefined'],
      [{}, 'an object'],
      [null, 'a null'],
      [3, 'a number'],
    ] as const) {
      let error: unknown;
      try {
        parseTemplate(value as unknown as string);
      } catch (e) {
        error = e;
      }
      expect((error as TemplateSyntaxError).found).toBe(found);
    }
  });
});
