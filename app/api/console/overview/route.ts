export { getOverview as GET } from "@/lib/control-plane/console/overview";
