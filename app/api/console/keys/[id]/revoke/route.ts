export { revokeKey as POST } from "@/lib/control-plane/console/keys";
