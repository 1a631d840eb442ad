// The process entry: one AgentiCorp instance (Fastify data plane + Next.js console, one port).
import { ConfigError, parseConfig } from "./lib/platform/config";
import { boot } from "./lib/platform/process/boot";
import { ConfigFileError } from "./lib/control-plane/config-file/issues";

let config;
try {
  config = parseConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const instance = await boot(config).catch((error: unknown) => {
  if (!(error instanceof ConfigFileError)) throw error;
  console.error(error.message);
  process.exit(1);
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    instance.shutdown(signal).then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
