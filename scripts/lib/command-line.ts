// The scripts' command lines: node:util's parseArgs (strict), `--help` printing the usage, and an
// unknown or malformed option reported with the usage and exit code 2.
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O & { help: { type: "boolean" } }; strict: true }>
>["values"];

export function readCommandLine<const O extends Options>(command: string, usage: string, options: O): Values<O> {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: "boolean" as const } }, strict: true }));
  } catch (error) {
    console.error(`${command}: ${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}
