export { getUsage as GET } from "@/lib/control-plane/console/usage";
