export { getRequest as GET } from "@/lib/control-plane/console/requests";
