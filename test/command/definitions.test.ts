import {
  Action,
  CommandAction,
  type CommandOption,
  CommandDefinitionError,
  CommandRouter,
  Option,
  Template,
  TemplateSyntaxError,
} from '@drover/command';
import { Container, inject, injectable } from 'inversify';
import { describe, expect, it } from 'vitest';

// Classes are defined inside functions so each case decorates fresh ones.
function action(name: string) {
  @Action({ name, description: `The ${name} action` })
  class Act extends CommandAction {
    handler(): void {}
  }
  return Act;
}

function option(name: string, long?: string) {
  @Option({ name, long, description: `The ${name} option`, value: 'none' })
  class Opt implements CommandOption {
    impactAction(): void {}
  }
  return Opt;
}

function template(text: string) {
  @Template(text, { bin: 't' })
  class Tpl {}
  return Tpl;
}

function build(definition: ConstructorParameters<typeof CommandRouter>[1]): unknown {
  try {
    new CommandRouter(new Container(), definition);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('CommandRouter: classes that do not fit the template are refused when the router is built', () => {
  const cases: Array<{
    name: string;
    definition: () => ConstructorParameters<typeof CommandRouter>[1];
    message: RegExp;
  }> = [
    {
      name: 'template class without @Template',
      definition: () => ({ template: class Bare {}, actions: [] }),
      message: /template class Bare given to the router has no @Template decorator; decorate it/,
    },
    {
      name: 'action class without @Action',
      definition: () => ({
        template: template('<go>'),
        actions: [
          class Go extends CommandAction {
            handler() {}
          },
        ],
      }),
      message: /action class Go given to the router has no @Action decorator/,
    },
    {
      name: 'action the template does not list',
      definition: () => ({ template: template('<start>'), actions: [action('start'), action('strat')] }),
      message:
        /action class Act is named 'strat', which the template does not list; add it to an action group of "<start>" \(or did you mean 'start'\?\)/,
    },
    {
      name: 'one class given twice',
      definition: () => {
        const Start = action('start');
        return { template: template('<start>'), actions: [Start, Start] };
      },
      message: /^action class Act \('start'\) is given twice in actions; list each class once$/,
    },
    {
      name: 'one option class given twice',
      definition: () => {
        const Detach = option('d');
        return { template: template('<go> -[d]'), actions: [action('go')], options: [Detach, Detach] };
      },
      message: /^option class Opt \('d'\) is given twice in options; list each class once$/,
    },
    {
      name: 'an anonymous class without @Action',
      definition: () => ({
        template: template('<go>'),
        actions: [
          class extends CommandAction {
            handler() {}
          },
        ],
      }),
      message: /^an anonymous action class given to the router has no @Action decorator/,
    },
    {
      name: 'an anonymous action class the template does not list',
      definition: () => {
        const Anonymous = [
          class extends CommandAction {
            handler() {}
          },
        ][0]!;
        Action({ name: 'stop', description: 'Stop' })(Anonymous);
        return { template: template('<start>'), actions: [Anonymous] };
      },
      message: /^an anonymous action class is named 'stop', which the template does not list/,
    },
    {
      name: 'template action without a class',
      definition: () => ({ template: template('<start|stop>'), actions: [action('start')] }),
      message:
        /the template names action 'stop', but no action class given to the router has that name; pass a class decorated with @Action\(\{ name: 'stop'/,
    },
    {
      name: 'two classes for one action',
      definition: () => ({ template: template('<start>'), actions: [action('start'), action('start')] }),
      message:
        /action 'start' is defined by both class Act and another class named Act; give the router one class per action/,
    },
    {
      name: 'template option without a class',
      definition: () => ({ template: template('<go> -[d]'), actions: [action('go')] }),
      message: /the template names option 'd' \(line 1, column 6\), but no option class/,
    },
    {
      name: 'template option given by its long name',
      definition: () => ({
        template: template('<go> -[detach]'),
        actions: [action('go')],
        options: [option('d', 'detach')],
      }),
      message: /write 'd' instead of its long form 'detach'/,
    },
    {
      name: 'option class the template does not use',
      definition: () => ({ template: template('<go>'), actions: [action('go')], options: [option('d')] }),
      message: /option class Opt \('d'\) is not used by the template; add -\[d\]/,
    },
    {
      name: 'two options claiming one flag',
      definition: () => ({
        template: template('<go> -[d] -[detach]'),
        actions: [action('go')],
        options: [option('d', 'detach'), option('detach')],
      }),
      message: /option class Opt and another class named Opt both claim the flag '--detach'/,
    },
    {
      name: 'argument description for an undeclared argument',
      definition: () => {
        @Action({ name: 'go', description: 'Go', args: { target: 'Where' } })
        class Go extends CommandAction {
          handler(): void {}
        }
        return { template: template('<go> [place]'), actions: [Go] };
      },
      message: /@Action 'go' describes argument 'target', which its template line does not declare/,
    },
  ];

  it.each(cases)('$name', ({ definition, message }) => {
    const error = build(definition());
    expect(error).toBeInstanceOf(CommandDefinitionError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('decorators refuse bad definitions when the class is defined', () => {
  const cases: Array<{ name: string; decorate: () => unknown; message: RegExp }> = [
    {
      name: '@Action without a name',
      decorate: () => Action({ name: '', description: 'x' }),
      message: /@Action: name is ""; expected a non-empty string/,
    },
    {
      name: '@Action name with a space',
      decorate: () => Action({ name: 'st art', description: 'x' }),
      message: /name is "st art"/,
    },
    {
      name: '@Action without a description',
      decorate: () => Action({ name: 'go' } as never),
      message: /description is missing/,
    },
    {
      name: '@Option valueName on a flag',
      decorate: () => Option({ name: 'd', description: 'x', value: 'none', valueName: 'n' }),
      message: /@Option 'd': valueName is "n", but the option takes no value; remove valueName/,
    },
    {
      name: '@Option value kind',
      decorate: () => Option({ name: 'd', description: 'x', value: 'maybe' as never }),
      message: /@Option 'd': value is "maybe"; expected 'none', 'optional' or 'required'/,
    },
    {
      name: '@Option reserved name',
      decorate: () => Option({ name: 'h', description: 'x', value: 'none' }),
      message: /name 'h' is not available/,
    },
    {
      name: '@Option no- name',
      decorate: () => Option({ name: 'no-color', description: 'x', value: 'none' }),
      message: /'no-…' names/,
    },
    {
      name: '@Option prototype name',
      decorate: () => Option({ name: 'constructor', description: 'x', value: 'none' }),
      message: /not available/,
    },
    {
      name: '@Option one-letter long',
      decorate: () => Option({ name: 'd', long: 'x', description: 'x', value: 'none' }),
      message: /at least 2 characters/,
    },
    {
      name: '@Option long on a long name',
      decorate: () => Option({ name: 'detach', long: 'dt', description: 'x', value: 'none' }),
      message: /name 'detach' is already a long flag/,
    },
    {
      name: '@Action non-ASCII name',
      decorate: () => Action({ name: 'démarrer', description: 'x' }),
      message:
        /@Action: name is "démarrer"; expected a non-empty string \(ASCII letters, digits, '_', '\.', '-'; e\.g\. 'start'\)/,
    },
    {
      name: '@Option non-ASCII name',
      decorate: () => Option({ name: 'lignes', long: 'zéro', description: 'x', value: 'none' } as never),
      message: /long is "zéro"; expected a non-empty string \(ASCII letters, digits and '-'/,
    },
    {
      name: '@Option underscore',
      decorate: () => Option({ name: 'a_b', description: 'x', value: 'none' }),
      message: /name is "a_b"/,
    },
  ];
  it.each(cases)('$name', ({ decorate, message }) => {
    expect(decorate).toThrow(CommandDefinitionError);
    expect(decorate).toThrow(message);
  });

  it('@Template parses the template when the class is decorated', () => {
    expect(() => {
      @Template('<start|stop -[d]')
      class Broken {}
      return Broken;
    }).toThrow(TemplateSyntaxError);
  });

  it('tolerates @injectable() placed below the framework decorator', async () => {
    @Action({ name: 'go', description: 'Go' })
    @injectable()
    class Go extends CommandAction {
      constructor(readonly when: Date) {
        super();
      }
      handler(): void {}
    }
    const container = new Container();
    container.bind(Date).toConstantValue(new Date(0));
    const router = new CommandRouter(container, { template: template('<go>'), actions: [Go] });
    expect(
      await router.run(['go'], { stdout: { write: () => true }, stderr: { write: () => true }, env: {} }),
    ).toBe(0);
  });

  // Documented in docs/command.md (Decorators): inversify throws from its own decorator, which
  // runs after ours; the framework cannot reword it.
  it("leaves @injectable() placed above the framework decorator to inversify's error", () => {
    expect(() => {
      @injectable()
      @Action({ name: 'go', description: 'Go' })
      class DeployAction extends CommandAction {
        handler(): void {}
      }
      return DeployAction;
    }).toThrow('Cannot apply @injectable decorator multiple times at class "DeployAction"');
  });

  it('refuses @Action on a class that does not extend CommandAction, naming the class and the fix', () => {
    expect(() => {
      // @ts-expect-error: refused by the type too; the check at run time is for JavaScript and casts
      @Action({ name: 'go', description: 'Go' })
      class PlainGo {
        handler(): void {}
      }
      return PlainGo;
    }).toThrow(
      new CommandDefinitionError(
        "@Action({ name: 'go' }) is on class PlainGo, which does not extend CommandAction",
        'declare it as class PlainGo extends CommandAction { handler() { … } }; the router hands an action its parameters, arguments and streams through CommandAction',
      ),
    );
  });

  it('refuses @Action on a class without handler(), @Option on one without impactAction()', () => {
    abstract class NoHandler extends CommandAction {}
    expect(() => Action({ name: 'go', description: 'Go' })(NoHandler)).toThrow(
      "@Action({ name: 'go' }) is on class NoHandler, which has no handler() method; implement handler()",
    );
    // Casts: the decorators' types refuse these classes too; the checks at run time are for JavaScript.
    class NoImpact {}
    expect(() => Option({ name: 'd', description: 'D', value: 'none' })(NoImpact as never)).toThrow(
      "@Option({ name: 'd' }) is on class NoImpact, which has no impactAction() method; implement CommandOption",
    );
    expect(() => Option({ name: 'd', description: 'D', value: 'none' })(class {} as never)).toThrow(
      /is on an anonymous class, which has no impactAction\(\) method/,
    );
  });

  it('refuses one class carrying both @Action and @Option', () => {
    const both = () => {
      @Action({ name: 'go', description: 'Go' })
      @Option({ name: 'd', description: 'D', value: 'none' })
      class Both extends CommandAction {
        handler(): void {}
        impactAction(): void {}
      }
      return Both;
    };
    expect(both).toThrow(CommandDefinitionError);
    expect(both).toThrow('class Both has both @Action and @Option; split it in two');
    expect(() => {
      @Option({ name: 'd', description: 'D', value: 'none' })
      @Action({ name: 'go', description: 'Go' })
      class Both extends CommandAction {
        handler(): void {}
        impactAction(): void {}
      }
      return Both;
    }).toThrow('class Both has both @Action and @Option');
  });

  it("refuses the reserved action name 'help' in @Action, before any template", () => {
    expect(() => Action({ name: 'help', description: 'Help' })).toThrow(
      "@Action: name 'help' is reserved for the built-in 'help <action>'; choose another name for the action",
    );
  });

  it('refuses a second decorator of the same kind', () => {
    expect(() => {
      @Action({ name: 'a', description: 'A' })
      @Action({ name: 'b', description: 'B' })
      class Twice extends CommandAction {
        handler(): void {}
      }
      return Twice;
    }).toThrow(/class Twice has @Action twice/);
  });

  it('refuses a subclass whose inherited constructor parameters cannot be injected', () => {
    abstract class Undecorated extends CommandAction {
      constructor(readonly dep: Date) {
        super();
      }
    }
    expect(() => {
      @Action({ name: 'a', description: 'A' })
      class Child extends Undecorated {
        handler(): void {}
      }
      return Child;
    }).toThrow(
      'class Child inherits a constructor with 1 parameter(s) from Undecorated, whose parameter types are unknown; ' +
        'decorate Undecorated with @injectable() from inversify, or give Child its own constructor',
    );
  });
});

describe('CommandRouter: classes whose constructor parameter types were lost', () => {
  // Decorators applied as plain calls: no design:paramtypes is emitted, as with a toolchain
  // without emitDecoratorMetadata.
  function undeclared() {
    class Go extends CommandAction {
      constructor(readonly dep: Date) {
        super();
      }
      handler(): void {}
    }
    Action({ name: 'go', description: 'Go' })(Go);
    return Go;
  }

  it('refuses them when the router is built, naming the class and the fix, with the original as cause', () => {
    const Go = undeclared();
    const error = build({ template: template('<go>'), actions: [Go] });
    expect(error).toBeInstanceOf(CommandDefinitionError);
    expect((error as Error).message).toBe(
      'action class Go has 1 constructor parameter(s), but no parameter types were recorded for it; ' +
        "import 'reflect-metadata' before the class is defined, keep its @Action decorator, and compile with " +
        'emitDecoratorMetadata (or mark each parameter with @inject(TOKEN))',
    );
    expect(String((error as Error).cause)).toMatch(/Found unexpected missing metadata on type "Go"/);
  });

  it('names the parameters whose recorded types cannot be injected', () => {
    interface Logger {
      log(text: string): void;
    }
    @Option({ name: 'v', description: 'Verbose', value: 'none' })
    class Loud implements CommandOption<object> {
      constructor(
        readonly when: Date,
        readonly log: Logger,
        readonly label: string,
      ) {}
      impactAction(): void {}
    }
    const error = build({ template: template('<go> -[v]'), actions: [action('go')], options: [Loud] });
    expect(error).toBeInstanceOf(CommandDefinitionError);
    expect((error as Error).message).toBe(
      "option class Loud cannot be built by the container: constructor parameter 1 is typed by an interface (or a class imported with 'import type'), " +
        'parameter 2 is a string; mark each with @inject(TOKEN) and bind TOKEN in the container',
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('refuses them when only some parameters carry @inject', () => {
    const TOKEN = Symbol('token');
    class Partly extends CommandAction {
      constructor(
        readonly when: Date,
        readonly what: unknown,
      ) {
        super();
      }
      handler(): void {}
    }
    inject(TOKEN)(Partly, undefined, 1);
    Action({ name: 'go', description: 'Go' })(Partly);
    const error = build({ template: template('<go>'), actions: [Partly] });
    expect(error).toBeInstanceOf(CommandDefinitionError);
    expect((error as Error).message).toMatch(
      /^action class Partly has 2 constructor parameter\(s\), but no parameter types were recorded for it; import 'reflect-metadata'/,
    );
    expect(String((error as Error).cause)).toMatch(/at constructor indexes "0"/);
  });
});
