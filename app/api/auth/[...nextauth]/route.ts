import { authRouteHandler } from "@/lib/auth/route";

export { authRouteHandler as GET, authRouteHandler as POST };
