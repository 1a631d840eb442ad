// What AgentiCorp adds to next-auth's user and token (see lib/control-plane/auth/options.ts).
import type { Role } from "./permissions";

declare module "next-auth" {
  interface User {
    role: Role;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    role?: Role;
    /** Unix seconds of the sign-in: sessions end 8 h after it, however often they are refreshed. */
    loginAt?: number;
  }
}
