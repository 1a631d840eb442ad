// Runs in the browser before the console's own code (Next.js loads it first).
import { config } from "zod";

// The console's CSP has no 'unsafe-eval', and zod, when it builds a schema, probes `new Function`
// to decide whether to compile its parsers: a reported CSP violation on every page. Its
// interpreted parsers are fast enough for the console's responses. (Browser only: the server's
// zod keeps compiling.)
config({ jitless: true });
