export { revokeKey as POST } from "@/lib/console/keys";
