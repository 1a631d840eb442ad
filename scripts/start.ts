// `npm start`: build the console once if needed and the server bundle, then run the server in
// this process (so signals reach it directly).
import { pathToFileURL } from "node:url";
import { SERVER_BUNDLE } from "../lib/platform/version";
import { buildIfNeeded } from "./build-if-needed";

await buildIfNeeded();
await import(pathToFileURL(SERVER_BUNDLE).href);
