export { getInstances as GET } from "@/lib/console/overview";
