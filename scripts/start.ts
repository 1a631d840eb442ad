// `npm start`: build the console once if needed, then run the server in this process (so
// signals reach it directly).
import { buildIfNeeded } from "./build-if-needed";

buildIfNeeded();
await import("../server");
