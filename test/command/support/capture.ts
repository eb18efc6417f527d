import type { CommandIO } from '@drover/command';

/** An in-memory `CommandIO`: what a run wrote, and a plain environment unless told otherwise. */
export function capture(options: { isTTY?: boolean; columns?: number; env?: Record<string, string> } = {}) {
  let stdout = '';
  let stderr = '';
  const io: CommandIO = {
    stdout: {
      write: (text: string) => {
        stdout += text;
        return true;
      },
      isTTY: options.isTTY,
      columns: options.columns,
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
        return true;
      },
      isTTY: options.isTTY,
    },
    env: options.env ?? {},
  };
  return {
    io,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
