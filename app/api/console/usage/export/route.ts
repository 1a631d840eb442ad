export { exportUsage as GET } from "@/lib/control-plane/console/usage";
