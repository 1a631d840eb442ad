// Tests start servers from dist/server.mjs, as production does: bundle the current sources first
// (the console build is the e2e script's job: `npm run build:if-needed`).
import { buildIfNeeded } from "../../scripts/build-if-needed";

export default async function setup() {
  await buildIfNeeded({ console: false });
}
