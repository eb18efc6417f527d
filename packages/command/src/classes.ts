/**
 * How messages name a class the program gave: `class Foo`, `action class Foo`, or for a class
 * without a name (`[class extends CommandAction {…}]`) `an anonymous class`, `an anonymous
 * action class`, never an empty name.
 */
export function describeClass(cls: unknown, kind?: 'action' | 'option' | 'template'): string {
  const what = kind ? `${kind} class` : 'class';
  if (typeof cls !== 'function') return `${kind ? `${kind} ` : ''}value ${String(cls)}`;
  return cls.name ? `${what} ${cls.name}` : `an anonymous ${what}`;
}

/** A class's name where a sentence needs a bare name: `Foo`, or `the anonymous class`. */
export function nameOfClass(cls: Function): string {
  return cls.name || 'the anonymous class';
}
