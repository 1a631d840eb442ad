import { authRouteHandler } from "@/lib/control-plane/auth/route";

export { authRouteHandler as GET, authRouteHandler as POST };
