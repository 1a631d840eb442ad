export { getInstances as GET } from "@/lib/control-plane/console/overview";
