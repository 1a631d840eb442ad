// Tests start servers from dist/server.mjs, as production does: bundle the current sources first.
import { buildServer } from "../../scripts/build-server";

export default async function setup() {
  await buildServer();
}
