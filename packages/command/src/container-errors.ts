import { describeClass } from './classes.js';
import { CommandDefinitionError, CommandError } from './errors.js';
import { tellsCause } from './thrown.js';

// inversify explains its errors over several lines, in its own terms. The router turns the ones
// a tool's author meets (a service never bound or bound twice, constructor metadata lost by the
// toolchain) into one line naming the class and the fix, keeping inversify's error as `cause`.

const INVERSIFY_ERROR = Symbol.for('@inversifyjs/core/InversifyCoreError');
const NO_BINDING =
  /^No bindings found for service: "([^\n]*)"\.\s+Trying to resolve bindings for "([^\n]*?)"\./;
const AMBIGUOUS =
  /^Ambiguous bindings found for service: "([^\n]*)"\.\s+Registered bindings:\s+([\s\S]*?)\n\s*Trying to resolve bindings for "([^\n]*?)"\./;
const MISSING_COUNT =
  /^Found unexpected missing metadata on type "[^"\n]*"\. "[^"\n]*" constructor requires at least (\d+) arguments, found (\d+) instead\./;
const MISSING_AT = /^Found unexpected missing metadata on type "[^"\n]*" at constructor indexes ("[^\n]*")\./;

function inversifyMessage(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ((error as Record<symbol, unknown>)[INVERSIFY_ERROR] !== true) return undefined;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}

/**
 * A service missing from the container, or bound more than once, while a run builds its classes,
 * as one line: the action, the service, the class that needs it and the fix. Other errors are
 * returned as they are.
 */
export function explainResolutionError(error: unknown, action: string): unknown {
  const message = inversifyMessage(error);
  const missing = message?.match(NO_BINDING);
  if (missing) {
    const [, service, requester] = missing;
    return tellsCause(
      new CommandError(
        'EBINDING',
        `action '${action}': the container has no binding for ${service}${neededBy(requester!)}`,
        { hint: 'bind it in the container before running the router', cause: error },
      ),
    );
  }
  const ambiguous = message?.match(AMBIGUOUS);
  if (ambiguous) {
    const [, service, bindings, requester] = ambiguous;
    const count = bindings!.match(/^\[ type: /gm)?.length ?? 0;
    return tellsCause(
      new CommandError(
        'EBINDING',
        `action '${action}': the container has ${count > 1 ? count : 'several'} bindings for ${service}${neededBy(requester!)}`,
        {
          hint: 'bind it once: a second bind() adds a binding, it does not replace the first (use rebind() for that)',
          cause: error,
        },
      ),
    );
  }
  return error;
}

/** `, which StartAction needs`; nothing for the class the run asked for itself. */
function neededBy(requester: string): string {
  return requester.endsWith(' (Root service)') ? '' : `, which ${requester} needs`;
}

/**
 * Constructor metadata that inversify refuses when the router binds a class, as a
 * `CommandDefinitionError` naming the class, the parameters and the fix. Other errors are
 * returned as they are.
 */
export function explainBindingError(
  error: unknown,
  role: 'action' | 'option' | 'template',
  cls: Function,
): unknown {
  const message = inversifyMessage(error);
  if (message === undefined) return error;
  const name = describeClass(cls, role);
  const count = message.match(MISSING_COUNT);
  const at = message.match(MISSING_AT);
  if (!count && !at) return error;
  const types = Reflect.getOwnMetadata('design:paramtypes', cls) as unknown[] | undefined;
  if (types === undefined) {
    return new CommandDefinitionError(
      `${name} has ${cls.length} constructor parameter(s), but no parameter types were recorded for it`,
      `import 'reflect-metadata' before the class is defined, keep its @${title(role)} decorator, and compile with emitDecoratorMetadata (or mark each parameter with @inject(TOKEN))`,
      { cause: error },
    );
  }
  const indexes = count
    ? range(Number(count[2]), Number(count[1]))
    : at![1]!.split(', ').map((index) => Number(index.replaceAll('"', '')));
  const described = indexes.map((i) => `parameter ${i} is ${describeDesignType(types[i])}`);
  return new CommandDefinitionError(
    `${name} cannot be built by the container: constructor ${described.join(', ')}`,
    `mark ${indexes.length === 1 ? 'it' : 'each'} with @inject(TOKEN) and bind TOKEN in the container`,
    { cause: error },
  );
}

/** What emitDecoratorMetadata recorded for a parameter inversify cannot inject. */
function describeDesignType(type: unknown): string {
  if (type === undefined) {
    return 'of a type not defined yet when the class was (an import cycle?)';
  }
  if (type === Object) return "typed by an interface (or a class imported with 'import type')";
  if (typeof type === 'function') return `a ${type.name.toLowerCase()}`;
  return `of type ${String(type)}`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function title(role: string): string {
  return role[0]!.toUpperCase() + role.slice(1);
}
