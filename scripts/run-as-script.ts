import { pathToFileURL } from 'node:url';

/**
 * Runs `main` when the module at `url` is the process's entry point (not
 * when a test or the benchmark imports it): its result is the exit code, an
 * error one line on stderr and exit code 1.
 */
export function runAsScript(
  url: string,
  name: string,
  main: (argv: string[]) => number | Promise<number>,
): void {
  const entry = process.argv[1];
  if (!entry || url !== pathToFileURL(entry).href) return;
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`${name}: ${message}\n`);
        process.exitCode = 1;
      },
    );
}
